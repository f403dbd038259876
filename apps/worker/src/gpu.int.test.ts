import { TRPCError } from '@trpc/server';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiDeps, createCaller } from '@ctxlab/api';
import { resetDb, testRepos, testSettings } from '@ctxlab/testing/db';
import { enqueueGpuJob } from '@ctxlab/jobs';
import { redisConnection } from '@ctxlab/queue';
import { startWorker, stopWorker, jobFinished, waitFor } from '@ctxlab/testing/worker';

const prefix = `gputest-${process.pid}`;
const api = () => createCaller({ ...apiDeps({ ...testSettings(), queuePrefix: prefix }), actor: null, source: 'internal' });
const repos = testRepos();

/**
 * GPU work through the queue and a worker on the local executor. mergekit cannot be installed
 * here, so a stand-in `mergekit-extract-lora` on the worker's PATH plays the tool: it reads the
 * command line the renderer wrote, prints progress and writes an adapter directory (or hangs).
 */
describe('GPU jobs on the local executor', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ctxlab-gpu-'));
  const bin = join(dir, 'bin');
  const artifacts = join(dir, 'artifacts');
  let worker: ChildProcess;
  let baseId: string;
  let ftId: string;

  beforeAll(async () => {
    await resetDb();
    mkdirSync(bin, { recursive: true });
    mkdirSync(artifacts, { recursive: true });
    writeFileSync(
      join(bin, 'mergekit-extract-lora'),
      `#!/bin/sh
echo "args: $*"
echo $$ > "${dir}/tool.pid"
out=""
while [ $# -gt 0 ]; do [ "$1" = "--out-path" ] && out="$2"; shift; done
case "$out" in *hang*) echo "working…"; sleep 60;; esac
echo "extracting rank-limited deltas"
mkdir -p "$out" && echo '{"r": 8, "target_modules": ["q_proj"]}' > "$out/adapter_config.json" && echo weights > "$out/adapter_model.safetensors"
echo "done"
`,
    );
    chmodSync(join(bin, 'mergekit-extract-lora'), 0o755);
    worker = startWorker(prefix, { PATH: `${bin}:${process.env.PATH}`, ARTIFACTS_DIR: artifacts, JOBS_DIR: join(dir, 'jobs') });
    const seedConfig = { numLayers: 4, hiddenSize: 128, numAttentionHeads: 4, numKeyValueHeads: 2, headDim: 32, intermediateSize: 384, vocabSize: 259, ropeTheta: 10_000, maxPositionEmbeddings: 512, tokenizer: 'byte' };
    baseId = (await api().models.create({ name: 'gpu-base', config: seedConfig })).id;
    ftId = (await api().models.create({ name: 'gpu-ft', origin: 'derived', config: { ...seedConfig, ropeTheta: 154_243, maxPositionEmbeddings: 2048 } })).id;
  });
  afterAll(async () => {
    await stopWorker(worker);
  });

  const finished = (jobId: string) => jobFinished(repos, jobId, 60_000, 200);

  it('runs an extraction, streams its output into the job log and registers the adapter with a digest', async () => {
    const out = `file://${join(artifacts, 'adapters/lab-r8')}`;
    const r = await api().gpu.start({
      spec: { kind: 'lora-extract', finetuned: `file://${join(artifacts, 'ft')}`, base: `file://${join(artifacts, 'base')}`, output: out, maxRank: 8, cuda: false },
      output: { kind: 'adapter', name: 'lab-lora-r8', baseModelId: baseId, sourceModelId: ftId, rank: 8, targetModules: ['q_proj'] },
    });
    const job = await finished(r.job.id);
    expect(job.status, job.error ?? '').toBe('succeeded');
    const logs = (await repos.jobs.events(r.job.id)).filter((e) => e.type === 'log').map((e) => e.message).join('\n');
    expect(logs).toContain('--max-rank 8');
    expect(logs).toContain('extracting rank-limited deltas');
    const adapter = (await api().adapters.list({ search: 'lab-lora-r8' })).items[0];
    expect(adapter).toMatchObject({ rank: 8, baseModelId: baseId, sourceModelId: ftId, uri: out });
    expect(adapter?.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect((job.spec as { gpus: number }).gpus).toBe(0);
  }, 90_000);

  it('cancel kills the running tool and keeps the job cancelled', async () => {
    const r = await api().gpu.start({
      spec: { kind: 'lora-extract', finetuned: `file://${join(artifacts, 'ft')}`, base: `file://${join(artifacts, 'base')}`, output: `file://${join(artifacts, 'adapters/hang')}`, maxRank: 4, cuda: false },
    });
    await waitFor('the tool to start', async () => (await repos.jobs.events(r.job.id)).some((e) => e.type === 'log' && e.message.includes('working')), 30_000);
    const pid = Number(readFileSync(join(dir, 'tool.pid'), 'utf8'));
    await api().jobs.cancel({ id: r.job.id });
    expect((await finished(r.job.id)).status).toBe('cancelled');
    await waitFor('the tool to die', async () => !existsSync(`/proc/${pid}`) || readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[2] === 'Z', 20_000);
  }, 90_000);

  it('a serve that cannot fit is refused before anything starts', async () => {
    const before = await repos.db.job.count();
    const config = { numLayers: 80, hiddenSize: 8192, numAttentionHeads: 64, numKeyValueHeads: 8, headDim: 128, intermediateSize: 28672, vocabSize: 128256, ropeTheta: 3_580_165_449, maxPositionEmbeddings: 1_048_576, tokenizer: 'llama3' };
    const e = await api()
      .gpu.start({ spec: { kind: 'serve', model: 'hf://gradientai/Llama-3-70B-Instruct-Gradient-1048k', servedName: 'g', modelConfig: config, gpuType: 'h100-sxm-80gb', tensorParallelSize: 4, maxModelLen: 1_048_576 } })
      .catch((x: unknown) => x);
    expect((e as TRPCError).code).toBe('BAD_REQUEST');
    expect((e as TRPCError).message).toMatch(/will not fit/);
    expect(await repos.db.job.count()).toBe(before);
  });

  it('a job whose stored spec the environment policy now refuses fails with the reason instead of staying queued', async () => {
    // As if queued before the policy existed: written straight to the registry, then put on the queue.
    const modelConfig = { numLayers: 2, hiddenSize: 128, numAttentionHeads: 4, numKeyValueHeads: 2, headDim: 32, intermediateSize: 384, vocabSize: 259, ropeTheta: 10_000, maxPositionEmbeddings: 512, tokenizer: 'byte' };
    const spec = { kind: 'serve', engine: 'lab', model: `file://${join(artifacts, 'm')}`, servedName: 'old', modelConfig, maxModelLen: 512, env: { NODE_OPTIONS: '--import=data:text/javascript,0' } };
    const { job } = await repos.jobs.create({ kind: 'serve', executor: 'local', maxAttempts: 1, spec: { spec, executor: 'local', output: { kind: 'none' } } });
    const producer = redisConnection(testSettings().redisUrl, 'producer');
    try {
      await enqueueGpuJob(producer, { jobId: job.id }, { prefix });
      const done = await finished(job.id);
      expect(done.status).toBe('failed');
      expect(done.error).toMatch(/^the job spec is refused: .*env\.NODE_OPTIONS/);
    } finally {
      producer.disconnect();
    }
  });
});
