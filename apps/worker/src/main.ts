/**
 * The job process: one BullMQ Worker per queue, graceful shutdown on SIGTERM/SIGINT (in-flight
 * jobs finish or are returned to the queue; nothing runs inside the web process).
 */
import { QUEUES, redisConnection } from '@ctxlab/queue';
import { Worker } from 'bullmq';
import { loadEnv } from './env';
import { healthProcessor } from './processors/health';

const env = loadEnv();
const connection = redisConnection(env.REDIS_URL, 'worker');
const prefix = env.QUEUE_PREFIX ? { prefix: env.QUEUE_PREFIX } : {};

const workers = [
  new Worker(QUEUES.health, healthProcessor(env.WORKER_NAME, connection), { connection, concurrency: 4, ...prefix }),
];

for (const w of workers) {
  w.on('failed', (job, err) => console.error(`[worker] ${w.name} job ${job?.id} failed: ${err.message}`));
  w.on('error', (err) => console.error(`[worker] ${w.name}: ${err.message}`));
}
await Promise.all(workers.map((w) => w.waitUntilReady()));
console.log(`[worker] ${env.WORKER_NAME} consuming ${workers.map((w) => w.name).join(', ')}`);

let closing = false;
async function shutdown(signal: string) {
  if (closing) return;
  closing = true;
  console.log(`[worker] ${signal}: finishing in-flight jobs`);
  await Promise.all(workers.map((w) => w.close()));
  await connection.quit().catch(() => undefined);
  console.log('[worker] stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
