import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderKubeObjects } from '../executors/kubernetes/manifests';
import { LocalExecutor } from '../executors/local';
import { renderJob } from '../render/index';
import type { RenderedJob, ToolId } from '../render/types';
import { parseJobSpec } from '../specs';
import { BAAI_TRAIN_SPEC, GRADIENT_1048K_EXTRACT, GRADIENT_1048K_MERGE, GRADIENT_TRAIN_SPECS, ZHINAO_360K_SERVE } from '../testing/seeds';
import { rejection, thrown } from '../testing/thrown';
import { parseUri } from '../uri';
import { deniedBecause, specEnvIssues, TOOL_ENV } from './env';
import { checkRenderedJob } from './job';

const LAB = { numLayers: 4, hiddenSize: 128, numAttentionHeads: 4, numKeyValueHeads: 2, headDim: 32, intermediateSize: 384, vocabSize: 259, ropeTheta: 10_000, maxPositionEmbeddings: 512, tokenizer: 'byte' };
const labServe = { kind: 'serve', engine: 'lab', model: 'file:///m/lab', servedName: 'lab', modelConfig: LAB, maxModelLen: 1024, host: '127.0.0.1', port: 18_555 } as const;
const field = (f: () => unknown) => thrown(f).field;

describe('env policy: what a spec may set', () => {
  it('refuses every variable that changes which code runs, at parse time, naming it and why', () => {
    const cases: [string, RegExp][] = [
      ['LD_PRELOAD', /dynamic loader preloads/],
      ['LD_LIBRARY_PATH', /dynamic loader/],
      ['LD_AUDIT', /dynamic loader/],
      ['DYLD_INSERT_LIBRARIES', /DYLD_/],
      ['PYTHONPATH', /Python imports modules from it/],
      ['PYTHONSTARTUP', /runs the file/],
      ['PYTHONHOME', /standard library/],
      ['PYTHONWARNINGS', /imports the modules/],
      ['PATH', /which program every command name runs/],
      ['BASH_ENV', /bash runs the file/],
      ['ENV', /sh runs the file/],
      ['PERL5OPT', /perl/],
      ['RUBYOPT', /ruby/],
      ['JAVA_TOOL_OPTIONS', /JVM/],
      ['npm_config_node_options', /npm reads its configuration/],
      ['NODE_PATH', /node reads options, module paths/],
      ['BASH_FUNC_ls%%', /function definitions/],
      ['HTTPS_PROXY', /through another host/],
      ['CTXLAB_MASTER_ADDR', /ctxlab's own/],
    ];
    for (const [name, why] of cases) {
      for (const engine of ['vllm', 'lab'] as const) {
        const spec = engine === 'vllm' ? { ...ZHINAO_360K_SERVE, env: { [name]: 'x' } } : { ...labServe, env: { [name]: 'x' } };
        const e = thrown(() => parseJobSpec(spec));
        expect(e.code).toBe('INVALID_SPEC');
        expect(e.field).toBe(`env.${name}`);
        expect(e.message).toContain(`env.${name}: ${name} can never be set by a job spec`);
        expect(e.message).toMatch(why);
      }
    }
  });

  it('admits only listed variables per engine, with values their rules accept', () => {
    const ok = parseJobSpec({ ...ZHINAO_360K_SERVE, env: { VLLM_ATTENTION_BACKEND: 'FLASHINFER', PYTORCH_CUDA_ALLOC_CONF: 'expandable_segments:True,max_split_size_mb:256', NCCL_DEBUG: 'INFO', HF_HUB_OFFLINE: '1' } });
    expect(ok.kind === 'serve' && ok.env.VLLM_ATTENTION_BACKEND).toBe('FLASHINFER');
    expect(renderJob({ ...labServe, env: { ORT_THREADS: '4' } }).env.ORT_THREADS).toBe('4');
    // Allowed elsewhere, or a harmless-looking member of a dangerous family: not listed, refused.
    expect(thrown(() => parseJobSpec({ ...ZHINAO_360K_SERVE, env: { VLLM_LOGGING_CONFIG_PATH: '/tmp/x.json' } })).message).toMatch(/VLLM_LOGGING_CONFIG_PATH is not a variable vLLM jobs may set \(allowed: .*VLLM_ATTENTION_BACKEND/);
    expect(field(() => parseJobSpec({ ...ZHINAO_360K_SERVE, env: { NCCL_NET_PLUGIN: 'evil' } }))).toBe('env.NCCL_NET_PLUGIN');
    expect(field(() => parseJobSpec({ ...ZHINAO_360K_SERVE, env: { HF_TOKEN: 'hf_x' } }))).toBe('env.HF_TOKEN');
    expect(field(() => parseJobSpec({ ...ZHINAO_360K_SERVE, env: { CUDA_VISIBLE_DEVICES: '0' } }))).toBe('env.CUDA_VISIBLE_DEVICES');
    expect(field(() => parseJobSpec({ ...labServe, env: { VLLM_ATTENTION_BACKEND: 'FLASHINFER' } }))).toBe('env.VLLM_ATTENTION_BACKEND');
    // The renderer's own variables are set from the spec's fields, never from env.
    expect(thrown(() => parseJobSpec({ ...labServe, env: { MODEL_SERVER_MODEL: '/etc' } })).message).toMatch(/MODEL_SERVER_MODEL is set by ctxlab from the spec's own fields/);
    // Values: the rule's pattern, no control characters, bounded length.
    expect(thrown(() => parseJobSpec({ ...ZHINAO_360K_SERVE, env: { VLLM_ATTENTION_BACKEND: 'FLASH_ATTN\nX=1' } })).message).toMatch(/control characters/);
    expect(thrown(() => parseJobSpec({ ...ZHINAO_360K_SERVE, env: { PYTORCH_CUDA_ALLOC_CONF: 'backend:/tmp/x.so' } })).message).toMatch(/PYTORCH_CUDA_ALLOC_CONF: "backend:\/tmp\/x.so" is not allowed; it must be comma-separated allocator options/);
    expect(field(() => parseJobSpec({ ...labServe, env: { ORT_THREADS: '1000' } }))).toBe('env.ORT_THREADS');
  });

  it('no allow-list admits a denied name; the one denied name a renderer sets is longllm_qlora\'s PYTHONPATH', () => {
    const settableDenied = Object.values(TOOL_ENV).flatMap((t) => Object.keys(t.settable).filter((n) => deniedBecause(n)));
    expect(settableDenied).toEqual([]);
    const renderedDenied = (Object.entries(TOOL_ENV) as [ToolId, (typeof TOOL_ENV)[ToolId]][]).flatMap(([tool, t]) => Object.keys(t.rendered).filter((n) => deniedBecause(n)).map((n) => `${tool}:${n}`));
    expect(renderedDenied).toEqual(['longllm-qlora:PYTHONPATH']);
    expect(specEnvIssues('longllm-qlora', { PYTHONPATH: '/opt/longllm_qlora' })[0]?.message).toMatch(/can never be set by a job spec/);
  });
});

describe('executor re-check of rendered jobs', () => {
  const seeds = [...GRADIENT_TRAIN_SPECS, BAAI_TRAIN_SPEC, GRADIENT_1048K_EXTRACT, GRADIENT_1048K_MERGE, ZHINAO_360K_SERVE, labServe];

  it('every renderer produces jobs the policy accepts', () => {
    for (const spec of seeds) expect(() => checkRenderedJob(renderJob(spec as never))).not.toThrow();
  });

  it('refuses what no spec can produce: denied or unlisted env, a PYTHONPATH list, unsafe files, a privileged port', () => {
    const qlora = renderJob(BAAI_TRAIN_SPEC);
    expect(field(() => checkRenderedJob({ ...qlora, env: { ...qlora.env, PYTHONPATH: '/opt/longllm_qlora:' } }))).toBe('env.PYTHONPATH');
    const vllm = renderJob(ZHINAO_360K_SERVE);
    expect(field(() => checkRenderedJob({ ...vllm, env: { ...vllm.env, PYTHONPATH: '/opt/x' } }))).toBe('env.PYTHONPATH');
    expect(field(() => checkRenderedJob({ ...vllm, env: { EXTRA: '1' } }))).toBe('env.EXTRA');
    expect(thrown(() => checkRenderedJob({ ...vllm, service: { ...vllm.service!, port: 22 } })).message).toMatch(/port 22 must be 1024–65535/);
    const merge = renderJob(GRADIENT_1048K_MERGE);
    for (const path of ['../x', '/etc/cron.d/x', 'a/../../x', 'a\\..\\x', 'a\nb']) {
      expect(thrown(() => checkRenderedJob({ ...merge, files: [{ path, content: '' }] })).code).toBe('OUTSIDE_ROOT');
    }
    expect(thrown(() => checkRenderedJob({ ...merge, tool: { id: 'bash' as ToolId, name: 'bash' } })).code).toBe('UNSUPPORTED');
  });

  it('the Kubernetes manifests carry only checked env, and image references must parse', () => {
    const vllm = renderJob({ ...ZHINAO_360K_SERVE, env: { NCCL_DEBUG: 'WARN' } });
    const objs = renderKubeObjects('s-1', vllm, { namespace: 'ctxlab', images: { default: 'vllm/vllm-openai:v0.6.3' } });
    expect(objs.deployment!.spec!.template.spec!.containers[0]!.env).toEqual(expect.arrayContaining([{ name: 'NCCL_DEBUG', value: 'WARN' }]));
    expect(thrown(() => renderKubeObjects('s-2', { ...vllm, env: { LD_PRELOAD: '/x.so' } }, { namespace: 'ctxlab', images: { default: 'vllm/vllm-openai:v0.6.3' } })).field).toBe('env.LD_PRELOAD');
    for (const image of ['--privileged', 'vllm/vllm-openai:v0.6.3 --x', 'ghcr.io/ctxlab/Jobs:1', 'a/b:t@sha256:xyz']) {
      expect(thrown(() => renderKubeObjects('s-3', vllm, { namespace: 'ctxlab', images: { serve: image } })).field).toBe('images.serve');
    }
    expect(renderKubeObjects('s-4', vllm, { namespace: 'ctxlab', images: { serve: `registry.example.com:5000/ml/vllm-openai:v0.6.3@sha256:${'a'.repeat(64)}` } }).deployment).toBeDefined();
    expect(thrown(() => renderKubeObjects('s-5', vllm, { namespace: 'ctxlab', images: { default: 'x:1' }, shmSizeLimit: '64Gi; rm' })).field).toBe('shmSizeLimit');
  });
});

describe('argv injection: spec strings never become flags', () => {
  it('refuses option values that start with "-" or hold spaces or control characters', () => {
    expect(field(() => parseJobSpec({ ...ZHINAO_360K_SERVE, servedName: '--trust-remote-code' }))).toBe('servedName');
    expect(field(() => parseJobSpec({ ...ZHINAO_360K_SERVE, host: '--trust-remote-code' }))).toBe('host');
    expect(field(() => parseJobSpec({ ...ZHINAO_360K_SERVE, host: '0.0.0.0\n--x' }))).toBe('host');
    expect(field(() => parseJobSpec({ ...ZHINAO_360K_SERVE, gpuType: '-x' }))).toBe('gpuType');
    expect(field(() => parseJobSpec({ ...BAAI_TRAIN_SPEC, chatTemplate: '--x' }))).toBe('chatTemplate');
    expect(field(() => parseJobSpec({ ...BAAI_TRAIN_SPEC, chatTemplate: 'llama-3 --bf16' }))).toBe('chatTemplate');
    expect(field(() => parseJobSpec({ ...BAAI_TRAIN_SPEC, lora: { ...BAAI_TRAIN_SPEC.lora!, extraTrainedParameters: ['embed_tokens', '--load_in_4_bit'] } }))).toBe('lora.extraTrainedParameters.1');
    expect(field(() => parseJobSpec({ ...BAAI_TRAIN_SPEC, stage: { ...BAAI_TRAIN_SPEC.stage, gpuType: '--x' } }))).toBe('stage.gpuType');
    expect(field(() => parseJobSpec({ ...GRADIENT_1048K_EXTRACT, saveModules: ['--cuda'] }))).toBe('saveModules.0');
    expect(field(() => parseJobSpec({ ...ZHINAO_360K_SERVE, port: 80 }))).toBe('port');
    for (const host of ['0.0.0.0', '127.0.0.1', '::', 'node-1.cluster.local']) expect(parseJobSpec({ ...ZHINAO_360K_SERVE, host }).kind).toBe('serve');
  });
});

describe('path traversal in URIs', () => {
  it('refuses dot segments (plain or percent-encoded), control characters, backslashes and queries', () => {
    for (const uri of [
      'file:///../../etc',
      'file:///data/../../root/.ssh',
      'file:///data/%2e%2e/%2E%2E/root',
      'file:///data/./x',
      'file:///a%0Ab',
      'file:///a%00b',
      'file:///a\\..\\etc',
      'file:///a?b',
      's3://ctxlab-models/a/../../b',
      's3://ctxlab-models/a/%2e%2e/b',
      's3://ctxlab-models//b',
    ]) {
      expect(() => parseUri(uri), uri).toThrow(/is not a usable artifact URI/);
      expect(field(() => parseJobSpec({ ...GRADIENT_1048K_EXTRACT, output: uri }))).toBe('output');
    }
    expect(parseUri('file:///data/a..b/.hidden')).toEqual({ scheme: 'file', path: '/data/a..b/.hidden' });
    expect(parseUri('s3://ctxlab-models/models/')).toEqual({ scheme: 's3', bucket: 'ctxlab-models', key: 'models/' });
  });
});

describe('local executor: where jobs write, what they inherit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ctxlab-policy-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const artifacts = join(dir, 'artifacts');
  const outside = join(dir, 'outside');
  mkdirSync(artifacts);
  mkdirSync(outside);
  const executor = new LocalExecutor({ workRoot: join(dir, 'jobs'), baseEnv: { PATH: process.env.PATH, HOME: dir } });
  let n = 0;
  const job = (script: string, extra: Partial<RenderedJob> = {}): RenderedJob => {
    const argv = [process.execPath, '-e', script];
    return { kind: 'lora-extract', argv, env: {}, files: [], steps: [argv], resources: { gpus: 0, gpuType: null, nodes: 1, gpusPerNode: 0 }, outputs: [], tool: { id: 'lab-lora', name: 'node' }, ...extra };
  };

  it('outputs must resolve inside the writable roots or the job directory, symlinks followed', async () => {
    symlinkSync(outside, join(artifacts, 'escape'));
    const write = (out: string) => job(`require('fs').writeFileSync(${JSON.stringify(out)}, 'x')`, { outputs: [`file://${out}`] });
    const inside = join(artifacts, 'a.txt');
    expect((await (await executor.start(`w-${++n}`, write(inside), { writableRoots: [artifacts] })).wait()).reason).toBe('succeeded');
    expect(readFileSync(inside, 'utf8')).toBe('x');
    for (const out of [join(outside, 'b.txt'), join(artifacts, 'escape', 'c.txt')]) {
      const e = await rejection(executor.start(`w-${++n}`, write(out), { writableRoots: [artifacts] }));
      expect(e.code).toBe('OUTSIDE_ROOT');
      expect(e.field).toBe('output');
      expect(existsSync(out)).toBe(false);
    }
    // No roots given: only the job's own directory.
    expect((await rejection(executor.start(`w-${++n}`, write(inside)))).code).toBe('OUTSIDE_ROOT');
    const own = `w-${++n}`;
    expect((await (await executor.start(own, write(join(executor.workDir(own), 'o.txt')))).wait()).reason).toBe('succeeded');
    // lora-merge's cache is held to the same roots.
    const merge = renderJob({ ...GRADIENT_1048K_MERGE, output: `file://${join(artifacts, 'm')}`, cache: `file://${join(outside, 'cache')}` });
    expect((await rejection(executor.start(`w-${++n}`, merge, { writableRoots: [artifacts] }))).field).toBe('cache');
  });

  it('rendered files are not written through a symlink left in the job directory', async () => {
    const jobId = `f-${++n}`;
    const work = executor.workDir(jobId);
    mkdirSync(work, { recursive: true });
    symlinkSync(outside, join(work, 'conf'));
    symlinkSync(join(outside, 'target.yml'), join(work, 'merge.yml'));
    const e = await rejection(executor.start(jobId, job('', { files: [{ path: 'conf/a.yml', content: 'x' }] })));
    expect(e.code).toBe('OUTSIDE_ROOT');
    expect(existsSync(join(outside, 'a.yml'))).toBe(false);
    const h = await executor.start(jobId, job(`console.log(require('fs').readFileSync('merge.yml', 'utf8'))`, { files: [{ path: 'merge.yml', content: 'models: []' }] }));
    expect((await h.wait()).reason).toBe('succeeded');
    expect(existsSync(join(outside, 'target.yml'))).toBe(false);
  });

  it('a job inherits PATH, HOME and locale only: never the worker\'s settings or secrets', async () => {
    expect(thrown(() => new LocalExecutor({ workRoot: dir, baseEnv: { PATH: '/usr/bin', DATABASE_URL: 'postgresql://x' } })).message).toMatch(/baseEnv may hold only PATH, HOME, LANG, LC_ALL, LC_CTYPE, TZ; DATABASE_URL would reach every job/);
    process.env.CTXLAB_SECRET_KEY = 'worker-secret';
    try {
      const h = await executor.start(`e-${++n}`, job(`console.log(Object.keys(process.env).sort().join(','))`, { env: { PYTHONUNBUFFERED: '1' } }));
      const lines: string[] = [];
      for await (const l of h.logs()) lines.push(l.text);
      expect(lines).toEqual(['HOME,PATH,PYTHONUNBUFFERED']);
    } finally {
      delete process.env.CTXLAB_SECRET_KEY;
    }
  });
});
