import type { V1Container, V1Node, V1Pod, V1Taint, V1Toleration } from '@kubernetes/client-node';
import type { PoolCapacity } from '../types';

/** Whether a toleration tolerates a taint, by the scheduler's rule (core/v1 Toleration.ToleratesTaint). */
export function tolerates(toleration: V1Toleration, taint: V1Taint): boolean {
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  // An empty key (only valid with Exists) tolerates every key.
  if (toleration.key && toleration.key !== taint.key) return false;
  if (toleration.operator === 'Exists') return true;
  return (toleration.value ?? '') === (taint.value ?? '');
}

/**
 * Whether the scheduler would place a GPU job's pod on the node: its Ready condition is True, it
 * is not cordoned, and the jobs' tolerations cover every NoSchedule and NoExecute taint on it
 * (PreferNoSchedule only steers). The node controller taints NotReady and cordoned nodes too, but
 * asynchronously, so the condition and the flag are read directly as well.
 */
export function takesJobs(node: V1Node, tolerations: readonly V1Toleration[]): boolean {
  if (node.spec?.unschedulable) return false;
  if (node.status?.conditions?.find((c) => c.type === 'Ready')?.status !== 'True') return false;
  return (node.spec?.taints ?? []).every((t) => t.effect === 'PreferNoSchedule' || tolerations.some((tol) => tolerates(tol, t)));
}

const SUFFIX: Record<string, number> = { '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };

/**
 * A count of an extended resource, from the quantity the API server writes: extended resources are
 * whole numbers, canonically plain digits ("8"), with a suffix only for round thousands ("1k"). A
 * quantity that is not a whole count (which the API server refuses for extended resources) is 0.
 */
export function resourceCount(quantity: string | number | undefined): number {
  if (typeof quantity === 'number') return Number.isSafeInteger(quantity) && quantity > 0 ? quantity : 0;
  const m = quantity?.trim().match(/^(\d+)(k|[MGTPE]|[KMGTPE]i)?$/);
  if (!m) return 0;
  const n = Number(m[1]) * (SUFFIX[m[2] ?? ''] ?? NaN);
  return Number.isSafeInteger(n) ? n : 0;
}

/** A container's count of the resource: its request, or its limit when it requests none (Kubernetes then requests the limit). */
function containerCount(c: V1Container, resource: string): number {
  return resourceCount(c.resources?.requests?.[resource] ?? c.resources?.limits?.[resource]);
}

/**
 * How many of the resource a pod holds on its node, by the scheduler's rule: the larger of what its
 * containers (with the sidecars — init containers with restartPolicy Always, which keep running)
 * request together, and what the init phase needs at its peak — each ordinary init container runs
 * alone, beside the sidecars started before it.
 */
export function podResourceCount(pod: V1Pod, resource: string): number {
  let sidecars = 0;
  let initPeak = 0;
  for (const c of pod.spec?.initContainers ?? []) {
    const n = containerCount(c, resource);
    if (c.restartPolicy === 'Always') {
      sidecars += n;
      initPeak = Math.max(initPeak, sidecars);
    } else initPeak = Math.max(initPeak, sidecars + n);
  }
  const running = (pod.spec?.containers ?? []).reduce((sum, c) => sum + containerCount(c, resource), 0) + sidecars;
  return Math.max(running, initPeak);
}

export interface PoolCapacityOptions {
  /** The node label that names a node's GPU type; nodes without it (or with an empty value) are in no pool. */
  gpuTypeLabel: string;
  /** The extended resource a GPU is (nvidia.com/gpu). */
  gpuResource: string;
  /** What ctxlab's GPU pods tolerate: a node with a taint outside them takes no job. */
  tolerations: readonly V1Toleration[];
  /** Whether a pod is one of ctxlab's own jobs (the scheduler counts those itself). */
  isOwnJob: (pod: V1Pod) => boolean;
}

/**
 * GPU pools from the cluster's nodes and its pods that have not ended: per GPU-type label value,
 * the allocatable GPUs and number of nodes that take jobs (takesJobs), and the GPUs other pods
 * bound to those nodes hold. A pool whose labelled nodes all take no jobs is reported with zeros,
 * so a scheduler can tell a pool that is down from a GPU type the cluster does not have.
 */
export function poolCapacity(nodes: readonly V1Node[], pods: readonly V1Pod[], o: PoolCapacityOptions): PoolCapacity[] {
  const pools = new Map<string, PoolCapacity>();
  const poolOfNode = new Map<string, PoolCapacity>();
  for (const node of nodes) {
    const gpuType = node.metadata?.labels?.[o.gpuTypeLabel];
    if (!gpuType) continue;
    let pool = pools.get(gpuType);
    if (!pool) pools.set(gpuType, (pool = { gpuType, gpus: 0, nodes: 0, foreignUsed: 0 }));
    if (!takesJobs(node, o.tolerations)) continue;
    pool.gpus += resourceCount(node.status?.allocatable?.[o.gpuResource]);
    pool.nodes++;
    if (node.metadata?.name) poolOfNode.set(node.metadata.name, pool);
  }
  for (const pod of pods) {
    const pool = poolOfNode.get(pod.spec?.nodeName ?? '');
    if (!pool || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed' || o.isOwnJob(pod)) continue;
    pool.foreignUsed += podResourceCount(pod, o.gpuResource);
  }
  return [...pools.values()].sort((a, b) => (a.gpuType < b.gpuType ? -1 : a.gpuType > b.gpuType ? 1 : 0));
}
