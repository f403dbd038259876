import { Deployment } from 'kubernetes-models/apps/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { ConfigMap, Service } from 'kubernetes-models/v1';
import { describe, expect, it } from 'vitest';
import { renderJob } from '../../render/index';
import { BAAI_TRAIN_SPEC, GRADIENT_1048K_EXTRACT, GRADIENT_1048K_MERGE, GRADIENT_TRAIN_SPECS, ZHINAO_360K_SERVE } from '../../testing/seeds';
import { gpuTypeLabelValue, jobIdLabel, kubeName, renderKubeObjects, STAGE_EXIT_FILE } from './manifests';

const opts = { namespace: 'ctxlab', images: { default: 'ghcr.io/ctxlab/jobs:1' } };

describe('Kubernetes manifests', () => {
  it('every seed job renders objects that validate against the Kubernetes OpenAPI schema (offline)', () => {
    const specs = [...GRADIENT_TRAIN_SPECS, BAAI_TRAIN_SPEC, GRADIENT_1048K_EXTRACT, GRADIENT_1048K_MERGE, ZHINAO_360K_SERVE];
    for (const [i, spec] of specs.entries()) {
      const o = renderKubeObjects(`seed-${i}`, renderJob(spec), opts);
      if (o.job) new Job(o.job as never).validate();
      if (o.deployment) new Deployment(o.deployment as never).validate();
      for (const s of [o.service, o.headlessService]) if (s) new Service(s as never).validate();
      if (o.configMap) new ConfigMap(o.configMap as never).validate();
    }
  });

  it('s3:// artifacts: a stage-in init container, a stage-out container after the command, one shared emptyDir; serve only stages in; no stager, no job', () => {
    const stager = { image: 'ghcr.io/ctxlab/ctxlab:1', command: ['node', '--import', 'tsx', 'apps/worker/src/stage.ts'], env: [{ name: 'CTXLAB_ARTIFACT_BUCKET', value: 's3://lab' }], secretName: 'ctxlab-s3' };
    const rendered = renderJob({ ...GRADIENT_1048K_EXTRACT, finetuned: 'file:///ctxlab/stage/lab/models/ft', output: 'file:///ctxlab/stage/lab/adapters/r32' });
    const staging = { inputs: [{ uri: 's3://lab/models/ft', path: '/ctxlab/stage/lab/models/ft' }], outputs: [{ uri: 's3://lab/adapters/r32', path: '/ctxlab/stage/lab/adapters/r32' }] };
    const o = renderKubeObjects('s3-job', { ...rendered, staging }, { ...opts, stager });
    new Job(o.job as never).validate();
    const pod = o.job!.spec!.template.spec!;
    expect(pod.initContainers!.map((c) => [c.name, c.command])).toEqual([['stage-in', [...stager.command, 'in', 's3://lab/models/ft', '/ctxlab/stage/lab/models/ft']]]);
    expect(pod.containers.map((c) => c.name)).toEqual(['main', 'stage-out']);
    expect(pod.containers[1]!.command).toEqual([...stager.command, 'out', '--after', STAGE_EXIT_FILE, '/ctxlab/stage/lab/adapters/r32', 's3://lab/adapters/r32']);
    expect(pod.containers[1]!.envFrom).toEqual([{ secretRef: { name: 'ctxlab-s3' } }]);
    // The command runs as rendered, under a shell that leaves its exit status for stage-out.
    expect(pod.containers[0]!.command!.slice(0, 2)).toEqual(['sh', '-c']);
    expect(pod.containers[0]!.command!.slice(4)).toEqual(rendered.argv);
    for (const c of [...pod.initContainers!, ...pod.containers]) expect(c.volumeMounts).toContainEqual({ name: 'stage', mountPath: '/ctxlab/stage' });
    expect(pod.volumes).toContainEqual({ name: 'stage', emptyDir: {} });
    const serve = renderKubeObjects('s3-serve', { ...renderJob(ZHINAO_360K_SERVE), staging: { inputs: staging.inputs, outputs: [] } }, { ...opts, stager });
    const spec = serve.deployment!.spec!.template.spec!;
    expect(spec.initContainers!.map((c) => c.name)).toEqual(['stage-in']);
    expect(spec.containers.map((c) => c.name)).toEqual(['main']);
    expect(() => renderKubeObjects('s3-job', { ...rendered, staging }, opts)).toThrow(/no stager is configured for Kubernetes jobs \(set CTXLAB_KUBE_STAGER_IMAGE/);
  });

  it('names: ctxlab-<id> when the id is already a DNS label, else a hashed form; always ≤ 52 characters', () => {
    expect(kubeName('run-42')).toBe('ctxlab-run-42');
    const a = kubeName('Run_42');
    const b = kubeName('run_42');
    expect(a).toMatch(/^ctxlab-run-42-[0-9a-f]{8}$/);
    expect(a).not.toBe(b);
    const long = kubeName('x'.repeat(128));
    expect(long.length).toBeLessThanOrEqual(52);
    expect(long).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    expect(jobIdLabel('Run_42')).toBe('Run_42');
    expect(jobIdLabel('x'.repeat(64))).toBe(kubeName('x'.repeat(64)));
  });

  it('GPU types map to catalog ids as node label values', () => {
    expect(gpuTypeLabelValue('L40S')).toBe('l40s-48gb');
    expect(gpuTypeLabelValue('A800-80G')).toBe('a800-80gb');
    expect(gpuTypeLabelValue('H100')).toBe('h100-sxm-80gb');
    expect(gpuTypeLabelValue('MI300X 192GB')).toBe('mi300x-192gb');
  });

  it('CPU-only jobs get no GPU limits, selector or toleration', () => {
    const o = renderKubeObjects('cpu-merge', renderJob({ ...GRADIENT_1048K_MERGE, cuda: false }), opts);
    const pod = o.job!.spec!.template.spec!;
    expect(pod.containers[0]!.resources).toBeUndefined();
    expect(pod.nodeSelector).toBeUndefined();
    expect(pod.tolerations).toBeUndefined();
    expect(o.configMap!.data).toEqual({ 'f0-merge.yml': expect.stringContaining('passthrough'), 'f1-patch_config.py': expect.stringContaining('rope_theta') });
  });
});
