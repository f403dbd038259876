/**
 * The API server of `startApiServer` in a process of its own, as the portal runs it: a test that
 * measures the server's responsiveness must not count its own client work (generating and
 * encoding inputs) as the server's. Prints `listening URL` once it accepts connections.
 *   QUEUE_PREFIX=… MAX_HEADER_SIZE=… node --import tsx tools/testing/api-server-main.ts
 */
import { warmSuiteResources } from '@ctxlab/jobs';
import { startApiServer } from './api-server';

// One-time loads (the Llama-3 vocabulary, corpus token indexes) happen before the first request.
warmSuiteResources();
const server = await startApiServer({
  ...(process.env.QUEUE_PREFIX ? { queuePrefix: process.env.QUEUE_PREFIX } : {}),
  ...(process.env.MAX_HEADER_SIZE ? { maxHeaderSize: Number(process.env.MAX_HEADER_SIZE) } : {}),
});
console.log(`listening ${server.url}`);
const bye = () => void server.close().then(() => process.exit(0));
process.on('SIGTERM', bye);
process.on('SIGINT', bye);
