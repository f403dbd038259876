/** The local OpenAI-compatible server for the lab models, as `npm start` runs it. */
import { startLabServer } from '@ctxlab/inference';
import { loadEnv } from './env';

const env = loadEnv();
const srv = await startLabServer({ port: env.MODEL_SERVER_PORT, host: env.MODEL_SERVER_HOST, threads: env.ORT_THREADS });
console.log(`[model-server] serving ${srv.models.map((m) => m.id).join(', ')} at ${srv.url}/v1`);

let closing = false;
const shutdown = async (signal: string) => {
  if (closing) return;
  closing = true;
  console.log(`[model-server] ${signal}: stopping`);
  await srv.close();
  process.exit(0);
};
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
