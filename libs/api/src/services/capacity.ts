import { capacityPayloadSchema, type CapacityPayload } from '@ctxlab/contracts';
import { GPU_KINDS, type Repositories } from '@ctxlab/db';
import { findGpu } from '@ctxlab/longctx';

/**
 * What the registry says the GPU pools must hold now: every serving endpoint's GPUs, plus every
 * queued or running GPU job's — those still waiting for the scheduler included, so the pools grow
 * with the queue — grouped by GPU type; nodes are whole nodes of `gpusPerNode` GPUs. Terraform
 * sizes the node pools from this (infra/terraform/modules/capacity).
 */
export async function capacity(repos: Repositories, gpusPerNode: number): Promise<CapacityPayload> {
  const [endpoints, jobs] = await Promise.all([
    repos.reads.gpuEndpoints(),
    repos.reads.activeJobsOfKinds(GPU_KINDS),
  ]);
  const pools = new Map<string, { gpus: number; serveEndpoints: number; queuedJobs: number; runningJobs: number; queuedGpus: number }>();
  const pool = (type: string) => {
    let p = pools.get(type);
    if (!p) pools.set(type, (p = { gpus: 0, serveEndpoints: 0, queuedJobs: 0, runningJobs: 0, queuedGpus: 0 }));
    return p;
  };
  for (const e of endpoints) {
    const p = pool(e.gpuType!);
    p.gpus += e.gpuCount!;
    p.serveEndpoints++;
  }
  for (const j of jobs) {
    if (!j.gpuType || j.gpus <= 0) continue;
    const p = pool(findGpu(j.gpuType)?.id ?? j.gpuType);
    p.gpus += j.gpus;
    if (j.status === 'running') p.runningJobs++;
    else p.queuedJobs++;
    if (j.status === 'queued' && !j.admittedAt) p.queuedGpus += j.gpus;
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
        sources: { serveEndpoints: p.serveEndpoints, queuedJobs: p.queuedJobs, runningJobs: p.runningJobs, queuedGpus: p.queuedGpus },
      })),
  };
  return capacityPayloadSchema.parse(payload);
}
