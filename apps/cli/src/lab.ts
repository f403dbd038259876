/**
 * `ctxlab lab run --model-url URL`: the main job `npm start` ends with. Registers the local lab
 * model server as an endpoint per stage and sweeps NIAH value retrieval over both stages up to 4×
 * the base model's trained length, so a newcomer sees the two heatmaps side by side, then
 * measures perplexity against context length for both stages (and stage 1 with dynamic NTK), and
 * runs a small RULER suite (single and multi-key NIAH, vt, cwe at 2,048 bytes) on each stage.
 */
import type { createClient } from '@ctxlab/api/client';
import { suiteResultLine, watchJob } from './evals';
import { findModel } from './lookup';

type Api = ReturnType<typeof createClient>;

const STAGES = [
  { model: 'lab-stage1', endpoint: 'lab-stage1-local' },
  { model: 'lab-stage2', endpoint: 'lab-stage2-local' },
];

export async function labRun(api: Api, modelUrl: string, portalUrl: string): Promise<{ data: unknown; text: string }> {
  const runs = [];
  const models = new Map<string, { id: string; ropeTheta: number }>();
  const endpoints = new Map<string, string>();
  for (const s of STAGES) {
    const model = await findModel(api, s.model);
    if (!model) throw new Error(`model ${s.model} is not in the registry: run the seed first`);
    models.set(s.model, model);
    const existing = (await api.endpoints.list.query({ search: s.endpoint, limit: 5 })).items.find((e) => e.name === s.endpoint);
    const endpoint = existing
      ? await api.endpoints.update.mutate({ id: existing.id, patch: { url: modelUrl, modelId: model.id } })
      : await api.endpoints.create.mutate({ name: s.endpoint, url: modelUrl, servedModelName: s.model, modelId: model.id, kind: 'local', maxModelLen: 8192 });
    const base = 512; // stage 1's trained length; the sweep goes to 4× it
    const r = await api.evals.start.mutate({
      name: `NIAH ${s.model} (lab, up to 4× ${base})`,
      endpointId: endpoint.id,
      modelId: model.id,
      concurrency: 2,
      mode: 'completion-ids',
      requestKey: 'npm-start-lab',
      spec: {
        variant: 'value',
        tokenizer: 'byte',
        seed: 0,
        grid: { lengths: { kind: 'list', values: [256, 512, 1024, 1536, 2048] }, depths: { kind: 'linspace', min: 0, max: 1, count: 5, curve: 'linear' }, samples: 1 },
        options: { layout: 'single', digits: 7, maxTokens: 48, maxWalkTokens: 256, haystackStart: 'random', verify: false, temperature: 0 },
      },
    });
    runs.push({ stage: s.model, evalRunId: r.evalRun.id, jobId: r.job.id });
    endpoints.set(s.model, endpoint.id);
  }
  // Perplexity against context length on the worker's onnxruntime-node: stage 1 at its own theta,
  // stage 1 with dynamic NTK (no training), and stage 2 — the curves the field looks at first.
  const checks = [];
  for (const [name, rule] of [['lab-stage1', { kind: 'model' as const }], ['lab-stage1', { kind: 'dynamic-ntk' as const, alpha: 4 }], ['lab-stage2', { kind: 'model' as const }]] as const) {
    const model = models.get(name)!;
    const label = rule.kind === 'model' ? `${name}, θ ${model.ropeTheta.toLocaleString('en-US')}` : `${name}, dynamic NTK α 4`;
    const r = await api.evals.startCheck.mutate({
      name: `perplexity ${label}`,
      modelId: model.id,
      requestKey: 'npm-start-lab',
      spec: { kind: 'perplexity', lengths: [256, 512, 1024, 2048], samples: 2, thetaRule: rule },
    });
    checks.push({ stage: label, evalRunId: r.evalRun.id, jobId: r.job.id });
  }
  // A small RULER run per stage, queued after the NIAH sweeps: the tasks that fit the byte-level
  // models' 2,048 positions (RULER counts the tokens to generate in the length). cwe's ten words ×
  // 30 plus the rest fill 2,048 bytes only for some draws: one sample, at a seed where it fits.
  const rulerRuns = [];
  for (const s of STAGES) {
    for (const [what, spec] of [
      ['niah, vt', { tasks: ['niah_single_1', 'niah_multikey_1', 'vt'] as const, samples: 3 }],
      ['cwe', { tasks: ['cwe'] as const, samples: 1 }],
    ] as const) {
      const r = await api.evals.startSuite.mutate({
        name: `RULER ${what} ${s.model} (lab, 2,048 bytes)`,
        endpointId: endpoints.get(s.model)!,
        concurrency: 2,
        mode: 'completion-ids',
        requestKey: 'npm-start-lab',
        spec: { suite: 'ruler', tasks: [...spec.tasks], lengths: [2048], samples: spec.samples, tokenizer: 'byte', seed: 0 },
      });
      rulerRuns.push({ stage: `${s.model} (${what})`, evalRunId: r.evalRun.id, jobId: r.job.id });
    }
  }
  const results = [];
  for (const run of runs) {
    process.stderr.write(`NIAH ${run.stage}\n`);
    const job = await watchJob(api, run.jobId);
    const heat = await api.evals.heatmap.query({ id: run.evalRunId });
    results.push({ ...run, status: job.status, average: heat.average });
  }
  const curves = [];
  for (const c of checks) {
    process.stderr.write(`perplexity ${c.stage}\n`);
    const job = await watchJob(api, c.jobId);
    const run = await api.evals.get.query({ id: c.evalRunId });
    const per = ((run.summary ?? {}) as { perLength?: { length: number; perplexity: number | null }[] }).perLength ?? [];
    curves.push({ ...c, status: job.status, perLength: per });
  }
  const ruler = [];
  for (const run of rulerRuns) {
    process.stderr.write(`RULER ${run.stage}\n`);
    const t0 = Date.now();
    const job = await watchJob(api, run.jobId);
    const summary = (await api.evals.get.query({ id: run.evalRunId })).summary;
    ruler.push({ ...run, status: job.status, seconds: (Date.now() - t0) / 1000, summary });
  }
  const lines = [
    ...results.map((r) => `NIAH ${r.stage}: ${r.status}, average score ${r.average === null ? '—' : r.average.toFixed(1)} · ${portalUrl}/evals/${r.evalRunId}`),
    ...ruler.map((r) => `RULER ${r.stage}: ${r.status}, ${suiteResultLine(r.summary)} · ${portalUrl}/evals/${r.evalRunId}`),
    ...curves.map((c) => `perplexity ${c.stage}: ${c.perLength.map((p) => `${p.length} → ${p.perplexity?.toFixed(2) ?? '—'}`).join(', ')} · ${portalUrl}/evals/${c.evalRunId}`),
  ];
  return { data: { niah: results, ruler, perplexity: curves }, text: lines.join('\n') };
}
