import { join, resolve } from 'node:path';
import { createDb, repositories, type Repositories } from '@ctxlab/db';
import type { Artifacts } from '@ctxlab/dispatch';
import { artifactsFromEnv, checkWorkers, type JobsDeps } from '@ctxlab/jobs';
import { redisConnection } from '@ctxlab/queue';
import type { Redis } from 'ioredis';
import { parseSecretKey } from '@ctxlab/security';
import { DEFAULT_GRID_LIMITS, type GridLimits } from './services/evals';
import { DEFAULT_MMLU_REGRESSION_POINTS } from './services/scorecard';

export interface ApiDeps {
  repos: Repositories;
  checkWorkers: (requestedBy: string) => ReturnType<typeof checkWorkers>;
  /** What job services need (registry + queue producer). */
  jobs: JobsDeps;
  /** Bearer token Terraform presents to read capacity; the capacity API is off without one. */
  infraToken?: string | undefined;
  /** GPUs per node the capacity API assumes (8 for p5/p4de-class nodes). */
  gpusPerNode: number;
  /** Key that encrypts stored endpoint API keys (CTXLAB_SECRET_KEY); null = storing keys is refused. */
  secretKey: Buffer | null;
  /** Hosts, addresses and CIDRs endpoints may point at although internal (CTXLAB_OUTBOUND_ALLOW), besides the admins' list in the registry. */
  outboundAllow: string[];
  /** How large a NIAH sweep may be (NIAH_MAX_CELLS, NIAH_MAX_PROMPT_TOKENS). */
  gridLimits: GridLimits;
  /** Points of MMLU accuracy below the comparison model that flag a short-context regression (CTXLAB_MMLU_REGRESSION_POINTS, default 2). */
  mmluRegressionPoints: number;
  /** Absolute directory file:// artifacts live under (ARTIFACTS_DIR, shared with the worker): imported tokenizers are stored there. */
  artifactsDir: string;
  /** The artifact stores: file:// under artifactsDir, and the CTXLAB_ARTIFACT_BUCKET bucket on S3 when set (new artifacts go there). */
  artifacts: Artifacts;
}

const cache = new Map<string, ApiDeps>();

/** Everything procedures need, built once per process from the app's validated settings. */
export function apiDeps(settings: {
  databaseUrl: string;
  redisUrl: string;
  queuePrefix?: string | undefined;
  infraToken?: string | undefined;
  gpusPerNode?: number | undefined;
  /** Default: process.env.CTXLAB_SECRET_KEY. */
  secretKey?: string | undefined;
  /** Default: process.env.CTXLAB_OUTBOUND_ALLOW (comma-separated). */
  outboundAllow?: string | undefined;
  niahMaxCells?: number | undefined;
  niahMaxPromptTokens?: number | undefined;
  /** Default: process.env.CTXLAB_MMLU_REGRESSION_POINTS, else 2. */
  mmluRegressionPoints?: number | undefined;
  /** Default: process.env.ARTIFACTS_DIR, else .data/artifacts under the working directory (the worker's default). */
  artifactsDir?: string | undefined;
  /** Where the S3 settings (CTXLAB_ARTIFACT_BUCKET, AWS_*) are read; default process.env. */
  artifactEnv?: Readonly<Record<string, string | undefined>> | undefined;
}): ApiDeps {
  const secret = settings.secretKey ?? process.env.CTXLAB_SECRET_KEY;
  const allow = settings.outboundAllow ?? process.env.CTXLAB_OUTBOUND_ALLOW ?? '';
  const artifactsDir = resolve(settings.artifactsDir ?? process.env.ARTIFACTS_DIR ?? join(process.cwd(), '.data/artifacts'));
  const artifactEnv = settings.artifactEnv ?? process.env;
  const key = `${artifactsDir}|${artifactEnv.CTXLAB_ARTIFACT_BUCKET ?? ''}|${artifactEnv.AWS_ENDPOINT_URL_S3 ?? artifactEnv.AWS_ENDPOINT_URL ?? ''}|${settings.databaseUrl}|${settings.redisUrl}|${settings.queuePrefix ?? ''}|${settings.infraToken ?? ''}|${settings.gpusPerNode ?? ''}|${secret ?? ''}|${allow}|${settings.niahMaxCells ?? ''}|${settings.niahMaxPromptTokens ?? ''}`;
  let d = cache.get(key);
  if (!d) {
    const repos = repositories(createDb(settings.databaseUrl));
    let producer: Redis | undefined;
    d = {
      repos,
      checkWorkers: (by) => checkWorkers({ redisUrl: settings.redisUrl, queuePrefix: settings.queuePrefix }, by),
      jobs: {
        repos,
        // Created on first use: reads never need Redis.
        producer: () => {
          if (!producer) {
            producer = redisConnection(settings.redisUrl, 'producer');
            producer.on('error', () => undefined);
          }
          return producer;
        },
        queuePrefix: settings.queuePrefix,
      },
      infraToken: settings.infraToken,
      gpusPerNode: settings.gpusPerNode ?? 8,
      secretKey: parseSecretKey(secret),
      outboundAllow: allow.split(',').map((x) => x.trim()).filter(Boolean),
      mmluRegressionPoints: mmluRegressionPoints(settings.mmluRegressionPoints ?? process.env.CTXLAB_MMLU_REGRESSION_POINTS),
      artifactsDir,
      artifacts: artifactsFromEnv(artifactsDir, artifactEnv),
      gridLimits: { maxCells: settings.niahMaxCells ?? DEFAULT_GRID_LIMITS.maxCells, maxPromptTokens: settings.niahMaxPromptTokens ?? DEFAULT_GRID_LIMITS.maxPromptTokens },
    };
    cache.set(key, d);
  }
  return d;
}

/** CTXLAB_MMLU_REGRESSION_POINTS: a number of points from 0 to 100; anything else is a setting error, said at start. */
function mmluRegressionPoints(v: number | string | undefined): number {
  if (v === undefined || v === '') return DEFAULT_MMLU_REGRESSION_POINTS;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || n > 100) throw new Error(`CTXLAB_MMLU_REGRESSION_POINTS must be a number of points from 0 to 100, got ${JSON.stringify(v)}`);
  return n;
}
