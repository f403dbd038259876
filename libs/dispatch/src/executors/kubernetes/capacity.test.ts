import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { podResourceCount, resourceCount, takesJobs, tolerates } from './capacity';
import { gpuTolerations } from './manifests';

// The rules capacity() applies, on objects as the API server sends them — including states the
// node controller has not caught up with yet (a cordoned or NotReady node before its taint).

const node = (spec: V1Node['spec'], ready = 'True'): V1Node => ({ metadata: { name: 'n' }, spec, status: { conditions: [{ type: 'Ready', status: ready }] } });
const GPU_TAINT = { key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' };

describe('which nodes take GPU jobs', () => {
  const jobs = gpuTolerations();

  it('a Ready node whose only hard taint is the GPU taint with NoSchedule', () => {
    expect(takesJobs(node({ taints: [GPU_TAINT] }), jobs)).toBe(true);
    expect(takesJobs(node({ taints: [GPU_TAINT, { key: 'spot', effect: 'PreferNoSchedule' }] }), jobs)).toBe(true);
    expect(takesJobs(node({}), jobs)).toBe(true);
  });

  it('not a node that is cordoned or not Ready, tainted or not yet', () => {
    expect(takesJobs(node({ unschedulable: true }), jobs)).toBe(false);
    expect(takesJobs(node({}, 'False'), jobs)).toBe(false);
    expect(takesJobs(node({}, 'Unknown'), jobs)).toBe(false);
    expect(takesJobs({ metadata: { name: 'new' }, spec: {} }, jobs)).toBe(false);
  });

  it('not a node with a taint the jobs do not tolerate', () => {
    expect(takesJobs(node({ taints: [{ ...GPU_TAINT, effect: 'NoExecute' }] }), jobs)).toBe(false);
    expect(takesJobs(node({ taints: [GPU_TAINT, { key: 'dedicated', value: 'inference', effect: 'NoSchedule' }] }), jobs)).toBe(false);
    // The GPU resource is configurable; the toleration follows it.
    expect(takesJobs(node({ taints: [{ key: 'amd.com/gpu', effect: 'NoSchedule' }] }), gpuTolerations('amd.com/gpu'))).toBe(true);
  });

  it('tolerations match as the scheduler matches them', () => {
    const taint = { key: 'dedicated', value: 'ml', effect: 'NoSchedule' };
    expect(tolerates({ key: 'dedicated', operator: 'Equal', value: 'ml' }, taint)).toBe(true);
    expect(tolerates({ key: 'dedicated', value: 'ml' }, taint)).toBe(true);
    expect(tolerates({ key: 'dedicated', operator: 'Equal', value: 'web' }, taint)).toBe(false);
    expect(tolerates({ key: 'dedicated', operator: 'Exists', effect: 'NoExecute' }, taint)).toBe(false);
    expect(tolerates({ operator: 'Exists' }, taint)).toBe(true);
  });
});

describe('GPUs a pod holds', () => {
  const gpu = (n: string, kind: 'requests' | 'limits' = 'limits') => ({ [kind]: { 'nvidia.com/gpu': n } });
  const pod = (containers: object[], initContainers: object[] = []): V1Pod =>
    ({ spec: { containers: containers.map((resources, i) => ({ name: `c${i}`, resources })), initContainers: initContainers.map((c, i) => ({ name: `i${i}`, ...c })) } }) as V1Pod;

  it('the sum over its containers, a request before a limit', () => {
    expect(podResourceCount(pod([gpu('2'), gpu('1', 'requests'), {}]), 'nvidia.com/gpu')).toBe(3);
    expect(podResourceCount(pod([{ requests: { 'nvidia.com/gpu': '1' }, limits: { 'nvidia.com/gpu': '2' } }]), 'nvidia.com/gpu')).toBe(1);
    expect(podResourceCount(pod([gpu('8')]), 'amd.com/gpu')).toBe(0);
  });

  it('at least the peak of its init phase, where sidecars keep what they hold', () => {
    expect(podResourceCount(pod([gpu('1')], [{ resources: gpu('4') }]), 'nvidia.com/gpu')).toBe(4);
    expect(podResourceCount(pod([gpu('1')], [{ resources: gpu('1'), restartPolicy: 'Always' }, { resources: gpu('2') }]), 'nvidia.com/gpu')).toBe(3);
    expect(podResourceCount(pod([gpu('2')], [{ resources: gpu('1'), restartPolicy: 'Always' }]), 'nvidia.com/gpu')).toBe(3);
  });

  it('reads the whole counts the API server writes for extended resources', () => {
    expect(resourceCount('8')).toBe(8);
    expect(resourceCount('1k')).toBe(1000);
    expect(resourceCount('2Ki')).toBe(2048);
    expect(resourceCount(undefined)).toBe(0);
    expect(resourceCount('500m')).toBe(0);
    expect(resourceCount('1.5')).toBe(0);
  });
});
