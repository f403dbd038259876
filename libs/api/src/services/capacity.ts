import { capacityPayloadSchema, type CapacityPayload } from '@ctxlab/contracts';
import type { Repositories } from '@ctxlab/db';
import { findGpu } from '@ctxlab/longctx';

/** Job kinds that hold GPUs while queued or running. */
export const GPU_JOB_KINDS = ['train', 'lora-extract', 'lora-merge', 'serve'] as const;

/**
 * What the registry says the GPU pools must hold now: every serving endpoint's GPUs, plus every
 * queued or running GPU job's, grouped by GPU type; nodes are whole nodes of `gpusPerNode` GPUs.
 * Terraform sizes the node pools from this (infra/terraform/modules/capacity).
 */
export async function capacity(repos: Repositories, gpusPerNode: number): Promise<CapacityPayload> {
  const [endpoints, jobs] = await Promise.all([
    repos.reads.gpuEndpoints(),
    repos.reads.activeJobsOfKinds(GPU_JOB_KINDS),
  ]);
  const pools = new Map<string, { gpus: number; serveEndpoints: number; queuedJobs: number; runningJobs: number }>();
  const pool = (type: string) => {
    let p = pools.get(type);
    if (!p) pools.set(type, (p = { gpus: 0, serveEndpoints: 0, queuedJobs: 0, runningJobs: 0 }));
    return p;
  };
  for (const e of endpoints) {
    const p = pool(e.gpuType!);
    p.gpus += e.gpuCount!;
    p.serveEndpoints++;
  }
  for (const j of jobs) {
    const spec = j.spec as { gpuType?: unknown; gpus?: unknown };
    if (typeof spec.gpuType !== 'string' || typeof spec.gpus !== 'number' || spec.gpus <= 0) continue;
    const p = pool(findGpu(spec.gpuType)?.id ?? spec.gpuType);
    p.gpus += spec.gpus;
    if (j.status === 'running') p.runningJobs++;
    else p.queuedJobs++;
  }
  const payload: CapacityPayload = {
    generatedAt: new Date().toISOString(),
    pools: [...pools.entries()]
      .filter(([type, p]) => p.gpus > 0 && findGpu(type))
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([type, p]) => ({
        gpuType: type,
        gpuMemoryGiB: findGpu(type)!.memoryGiB,
        gpusNeeded: p.gpus,
        nodesNeeded: Math.ceil(p.gpus / gpusPerNode),
        gpusPerNode,
        sources: { serveEndpoints: p.serveEndpoints, queuedJobs: p.queuedJobs, runningJobs: p.runningJobs },
      })),
  };
  return capacityPayloadSchema.parse(payload);
}
