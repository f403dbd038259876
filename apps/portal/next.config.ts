import type { NextConfig } from 'next';
import { fileURLToPath } from 'node:url';

const config: NextConfig = {
  // Workspace libs ship TypeScript sources.
  transpilePackages: ['@ctxlab/api', '@ctxlab/contracts', '@ctxlab/db', '@ctxlab/jobs', '@ctxlab/queue', '@ctxlab/ui'],
  // Loaded from node_modules at run time: drivers, and jieba's native addon (LongBench's Chinese metrics).
  serverExternalPackages: ['pg', '@prisma/adapter-pg', '@prisma/client', 'bullmq', 'ioredis', '@node-rs/jieba'],
  turbopack: { root: fileURLToPath(new URL('../..', import.meta.url)) },
  poweredByHeader: false,
  typescript: { tsconfigPath: 'tsconfig.json' },
};

export default config;
