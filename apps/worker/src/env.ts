import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';

const schema = z.object({
  DATABASE_URL: z.string().url('DATABASE_URL must be a postgresql:// URL'),
  REDIS_URL: z.string().url('REDIS_URL must be a redis:// URL'),
  WORKER_NAME: z.string().default(`worker-${process.pid}`),
  /** Key prefix for BullMQ, so parallel test runs never share queues. */
  QUEUE_PREFIX: z.string().optional(),
  /** NIAH sweeps run at once by this worker (each has its own request concurrency). */
  NIAH_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
  /** How long a job's lock lives without renewal: a SIGKILLed worker's job is re-delivered after it. */
  WORKER_LOCK_MS: z.coerce.number().int().min(1000).default(30_000),
  /**
   * How long a job's lease in PostgreSQL lives without renewal (default WORKER_LOCK_MS): one worker
   * runs a job at a time even when Redis forgets it, and a dead worker's job is taken over after it.
   */
  JOB_LEASE_MS: z.coerce.number().int().min(500).optional(),
  REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).default(600_000),
  REQUEST_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(5),
  /** How often PostgreSQL's unfinished jobs are checked against the queue (lost after a Redis restart?). */
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(10_000),
  /** GPU jobs this worker runs at once on the local executor. */
  GPU_JOB_CONCURRENCY: z.coerce.number().int().min(1).max(16).default(1),
  /** A GPU job's pod waiting this long for a place to run gets a note in its log (it goes on waiting). */
  GPU_PENDING_TIMEOUT_MS: z.coerce.number().int().min(100).default(30 * 60_000),
  /**
   * The GPUs the local executor offers, by type ("a100-80gb=2,l40s-48gb=1"). With it, local GPU jobs
   * wait their turn for these GPUs (priority, fair share, quotas); without it, the local executor
   * runs whatever it is given, as many at once as GPU_JOB_CONCURRENCY allows.
   */
  CTXLAB_LOCAL_GPUS: z.string().default(''),
  /** How often this worker runs a scheduling pass (one also runs when a GPU job ends). */
  SCHEDULER_EVERY_MS: z.coerce.number().int().min(50).default(2000),
  /** How often this worker's executors report their GPU pools. */
  POOL_REPORT_EVERY_MS: z.coerce.number().int().min(100).default(15_000),
  /** GPU jobs whose container image cannot be pulled for this long fail. */
  GPU_IMAGE_PULL_GRACE_MS: z.coerce.number().int().min(0).default(120_000),
  /** How often a waiting GPU job's status is read. */
  GPU_STATUS_EVERY_MS: z.coerce.number().int().min(20).default(5000),
  /** Where local GPU jobs get their working directories, and where file:// artifacts live. */
  JOBS_DIR: z.string().default(`${process.cwd()}/.data/jobs`),
  ARTIFACTS_DIR: z.string().default(`${process.cwd()}/.data/artifacts`),
  /** The lab model's scripts (train.py, lora.py) and the Python that runs them (with PyTorch, numpy, onnx). */
  LAB_MODEL_DIR: z.string().default(resolve(import.meta.dirname, '../../../tools/lab-model')),
  LAB_PYTHON: z.string().default(existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3'),
  PATH: z.string().default('/usr/bin:/bin'),
  HOME: z.string().default('/tmp'),
  RECONCILE_MS: z.coerce.number().int().min(500).default(15_000),
  /** Decrypts endpoint API keys stored by the portal (same value there). */
  CTXLAB_SECRET_KEY: z.string().optional(),
  /** Internal hosts/addresses/CIDRs endpoints may point at, comma-separated (besides the admins' list). */
  CTXLAB_OUTBOUND_ALLOW: z.string().default(''),
});

export type WorkerEnv = Omit<z.infer<typeof schema>, 'JOB_LEASE_MS'> & { JOB_LEASE_MS: number };

export function loadEnv(env: NodeJS.ProcessEnv = process.env): WorkerEnv {
  const r = schema.safeParse(env);
  if (!r.success) {
    throw new Error(`worker configuration: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return { ...r.data, JOB_LEASE_MS: r.data.JOB_LEASE_MS ?? r.data.WORKER_LOCK_MS };
}
