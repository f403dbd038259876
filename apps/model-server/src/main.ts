/** The local OpenAI-compatible server for the lab models, as `npm start` runs it. */
import { servedModelFromPath, startLabServer } from '@ctxlab/inference';
import { loadEnv } from './env';

async function start() {
  const env = loadEnv();
  const models = env.MODEL_SERVER_MODEL
    ? [servedModelFromPath(env.MODEL_SERVER_MODEL, { id: env.MODEL_SERVER_MODEL_NAME, theta: env.MODEL_SERVER_THETA, maxModelLen: env.MODEL_SERVER_MAX_MODEL_LEN })]
    : undefined;
  return startLabServer({
    port: env.MODEL_SERVER_PORT,
    host: env.MODEL_SERVER_HOST,
    threads: env.ORT_THREADS,
    ...(models ? { models } : {}),
    ...(env.MODEL_SERVER_PREFIX_CACHE_TOKENS > 0 ? { prefixCache: { capacityTokens: env.MODEL_SERVER_PREFIX_CACHE_TOKENS, blockSize: env.MODEL_SERVER_PREFIX_CACHE_BLOCK_SIZE } } : {}),
  });
}

const srv = await start().catch((e: unknown) => {
  console.error(`[model-server] cannot start: ${(e as Error).message}`);
  process.exit(1);
});
console.log(`[model-server] serving ${srv.models.map((m) => m.id).join(', ')} at ${srv.url}/v1`);
if (srv.prefixCache) console.log(`[model-server] prefix caching on: ${srv.prefixCache.capacityBlocks} blocks of ${srv.prefixCache.blockSize} tokens (metrics at ${srv.url}/metrics)`);

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
