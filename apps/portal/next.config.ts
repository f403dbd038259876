import type { NextConfig } from 'next';
import { fileURLToPath } from 'node:url';

const config: NextConfig = {
  // Workspace libs ship TypeScript sources.
  transpilePackages: ['@ctxlab/api', '@ctxlab/contracts', '@ctxlab/db', '@ctxlab/jobs', '@ctxlab/queue', '@ctxlab/ui'],
  serverExternalPackages: ['pg', '@prisma/adapter-pg', '@prisma/client', 'bullmq', 'ioredis'],
  turbopack: { root: fileURLToPath(new URL('../..', import.meta.url)) },
  poweredByHeader: false,
  typescript: { tsconfigPath: 'tsconfig.json' },
};

export default config;
