/**
 * The job process: one BullMQ Worker per queue, graceful shutdown on SIGTERM/SIGINT (in-flight
 * jobs finish or are returned to the queue; nothing runs inside the web process).
 */
import { closeAllDbs, createDb, repositories } from '@ctxlab/db';
import {
  gpuJob,
  artifactsFromEnv,
  datasetPrepareJob,
  datasetPrepareProcessor,
  gpuProcessor,
  healthJob,
  healthProcessor,
  localCheckJob,
  localCheckProcessor,
  niahEvalJob,
  niahEvalProcessor,
  recipeRunJob,
  recipeRunProcessor,
  scheduleLoop,
  suiteEvalJob,
  suiteEvalProcessor,
  withStrandedLocalChecks,
} from '@ctxlab/jobs';
import { cancelChannel, redisConnection } from '@ctxlab/queue';
import { LocalExecutor, parseGpuInventory } from '@ctxlab/dispatch';
import { engineRoundTrip, sequencePerplexity, servedModelFromPath, session, thetaFor, tokenizerRoundTrip } from '@ctxlab/inference';
import { Worker } from 'bullmq';
import { parseSecretKey } from '@ctxlab/security';
import { fileURLToPath } from 'node:url';
import { adapter } from './adapter';
import { loadEnv } from './env';
import { kubernetesExecutorFromEnv } from './kube';
import { reconcile } from './reconcile';

const env = loadEnv();
// Signals are handled from the first moment: a SIGTERM that arrives while the queues are still
// being opened still shuts down cleanly (no job is picked up after it).
let closing = false;
let workers: Worker[] = [];
const timers: { reconcile?: NodeJS.Timeout; pools?: NodeJS.Timeout } = {};
// Before any queue is consumed there is nothing to finish: stop at once.
const onSignal = (signal: string) => (workers.length === 0 ? process.exit(0) : void shutdown(signal));
process.on('SIGTERM', () => onSignal('SIGTERM'));
process.on('SIGINT', () => onSignal('SIGINT'));
const connection = redisConnection(env.REDIS_URL, 'worker');
const subscriber = redisConnection(env.REDIS_URL, 'worker');
const producer = redisConnection(env.REDIS_URL, 'worker');
for (const c of [connection, subscriber, producer]) c.on('error', (e) => console.error(`[worker] redis: ${e.message}`));
const prefix = env.QUEUE_PREFIX ? { prefix: env.QUEUE_PREFIX } : {};
const repos = repositories(createDb(env.DATABASE_URL));

// Cancellation arrives on pub/sub so in-flight requests stop at once.
const cancelListeners = new Map<string, Set<() => void>>();
await subscriber.subscribe(cancelChannel(env.QUEUE_PREFIX));
subscriber.on('message', (_channel, jobId: string) => cancelListeners.get(jobId)?.forEach((fn) => fn()));
const onCancel = (jobId: string, fn: () => void) => {
  const set = cancelListeners.get(jobId) ?? new Set();
  set.add(fn);
  cancelListeners.set(jobId, set);
  return () => set.delete(fn);
};

// GPU work on this host: each job in its own directory and process group.
const localGpus = parseGpuInventory(env.CTXLAB_LOCAL_GPUS);
const local = new LocalExecutor({ workRoot: env.JOBS_DIR, baseEnv: { PATH: env.PATH, HOME: env.HOME }, gpus: localGpus });
// file:// artifacts under ARTIFACTS_DIR; with CTXLAB_ARTIFACT_BUCKET, that S3 bucket too (new artifacts go there).
const artifacts = artifactsFromEnv(env.ARTIFACTS_DIR);
// GPU work on a cluster, when CTXLAB_KUBE_EXECUTOR says where its API server is.
const kubernetes = kubernetesExecutorFromEnv();
const executors = { local, ...(kubernetes ? { kubernetes } : {}) };
// Local jobs find the lab tools in this checkout; the lab model server runs as `npm start` runs it.
const renderOptions = {
  local: {
    labModelDir: env.LAB_MODEL_DIR,
    python: env.LAB_PYTHON,
    labServer: [process.execPath, '--import', import.meta.resolve('tsx'), fileURLToPath(import.meta.resolve('@ctxlab/model-server/main'))],
  },
};

// GPU scheduling: passes on a timer and whenever a GPU job gives its GPUs back; executors report their pools.
const jobsDeps = { repos, producer: () => producer, queuePrefix: env.QUEUE_PREFIX };
const scheduler = scheduleLoop(jobsDeps, env.SCHEDULER_EVERY_MS);
let forgotLocal = false;
const reportPools = async () => {
  for (const [name, ex] of Object.entries(executors)) {
    // A local executor with no GPUs configured does not manage them: its jobs are not held back.
    if (name === 'local' && Object.keys(localGpus).length === 0) {
      if (!forgotLocal) await repos.scheduling.forgetPools('local').catch(() => undefined);
      forgotLocal = true;
      continue;
    }
    if (!ex.capacity) continue;
    try {
      await repos.scheduling.reportPools(name, await ex.capacity(), env.WORKER_NAME);
    } catch (e) {
      console.error(`[worker] ${name} executor's GPU pools could not be read: ${(e as Error).message}`);
    }
  }
  void scheduler.kick();
};

const sweepDeps = {
  repos, artifacts, workerName: env.WORKER_NAME, onCancel, requestTimeoutMs: env.REQUEST_TIMEOUT_MS, requestAttempts: env.REQUEST_ATTEMPTS, leaseMs: env.JOB_LEASE_MS,
  secretKey: parseSecretKey(env.CTXLAB_SECRET_KEY), outboundAllow: env.CTXLAB_OUTBOUND_ALLOW.split(',').map((x) => x.trim()).filter(Boolean),
};
// A dead worker's jobs are handed on soon after their lock lapses.
const lockOptions = { connection, lockDuration: env.WORKER_LOCK_MS, stalledInterval: Math.max(1000, Math.floor(env.WORKER_LOCK_MS / 2)), ...prefix };
const sweepWorkerOptions = { ...lockOptions, concurrency: env.NIAH_CONCURRENCY };
// Local checks run the lab model on this worker's onnxruntime-node.
const localCheck = localCheckProcessor({ ...sweepDeps, engine: { session, servedModelFromPath, thetaFor, sequencePerplexity, engineRoundTrip, tokenizerRoundTrip } });

// One BullMQ Worker per queue; each job kind's processor lives in its module in libs/jobs.
workers = [
  new Worker(healthJob.queue, adapter(healthJob, healthProcessor(env.WORKER_NAME, () => connection.ping())), { connection, concurrency: 4, ...prefix }),
  // A local check queued on the NIAH queue before local checks had their own still runs.
  new Worker(niahEvalJob.queue, adapter(niahEvalJob, withStrandedLocalChecks(repos, niahEvalProcessor(sweepDeps), localCheck)), sweepWorkerOptions),
  // RULER, topic retrieval and the capability suites: the same sweep machinery, their own queue.
  new Worker(suiteEvalJob.queue, adapter(suiteEvalJob, suiteEvalProcessor(sweepDeps)), sweepWorkerOptions),
  new Worker(localCheckJob.queue, adapter(localCheckJob, localCheck), sweepWorkerOptions),
  new Worker(gpuJob.queue, adapter(gpuJob, gpuProcessor({
      repos, workerName: env.WORKER_NAME, leaseMs: env.JOB_LEASE_MS, executors, artifacts, onCancel, renderOptions,
      pendingTimeoutMs: env.GPU_PENDING_TIMEOUT_MS, imagePullGraceMs: env.GPU_IMAGE_PULL_GRACE_MS, statusEveryMs: env.GPU_STATUS_EVERY_MS,
      reschedule: scheduler.kick,
    })), { ...lockOptions, concurrency: env.GPU_JOB_CONCURRENCY }),
  // Recipe runs: each drives its stages' jobs through the queues above, so it mostly waits.
  new Worker(recipeRunJob.queue, adapter(recipeRunJob, recipeRunProcessor({
      repos, jobs: jobsDeps, workerName: env.WORKER_NAME, leaseMs: env.JOB_LEASE_MS,
      artifactsRoot: artifacts.local.root, onCancel,
    })), { ...lockOptions, concurrency: 8 }),
  // Training data preparation: CPU work on this worker, one at a time (it holds a core).
  new Worker(datasetPrepareJob.queue, adapter(datasetPrepareJob, datasetPrepareProcessor({
      repos, workerName: env.WORKER_NAME, leaseMs: env.JOB_LEASE_MS, artifacts, workRoot: env.JOBS_DIR, onCancel,
    })), { ...lockOptions, concurrency: 1 }),
];

for (const w of workers) {
  w.on('failed', (job, err) => console.error(`[worker] ${w.name} job ${job?.id} failed: ${err.message}`));
  w.on('error', (err) => console.error(`[worker] ${w.name}: ${err.message}`));
}
await Promise.all(workers.map((w) => w.waitUntilReady()));
console.log(`[worker] ${env.WORKER_NAME} consuming ${workers.map((w) => w.name).join(', ')}; GPU executors: ${Object.keys(executors).join(', ')}`);

const runReconcile = () =>
  reconcile(repos, producer, env.QUEUE_PREFIX)
    .then((ids) => ids.length && console.log(`[worker] re-queued ${ids.length} job(s) the queue had lost: ${ids.join(', ')}`))
    .catch((e: Error) => console.error(`[worker] reconcile: ${e.message}`));
void runReconcile();
timers.reconcile = setInterval(runReconcile, env.RECONCILE_MS);
void reportPools();
timers.pools = setInterval(() => void reportPools(), env.POOL_REPORT_EVERY_MS);
if (closing) {
  clearInterval(timers.reconcile);
  clearInterval(timers.pools);
}

async function shutdown(signal: string) {
  if (closing) return;
  closing = true;
  clearInterval(timers.reconcile);
  clearInterval(timers.pools);
  await scheduler.stop();
  console.log(`[worker] ${signal}: finishing in-flight jobs (up to ${env.SHUTDOWN_GRACE_MS / 1000} s)`);
  // A long sweep does not hold shutdown hostage: its finished cells are already in PostgreSQL,
  // and its job is re-delivered to the next worker once its lock lapses, which resumes it.
  await Promise.race([Promise.all(workers.map((w) => w.close())), new Promise((r) => setTimeout(r, env.SHUTDOWN_GRACE_MS))]);
  await local.close().catch(() => undefined);
  await Promise.all([connection, subscriber, producer].map((c) => c.quit().catch(() => undefined)));
  await closeAllDbs().catch(() => undefined);
  console.log('[worker] stopped');
  process.exit(0);
}

