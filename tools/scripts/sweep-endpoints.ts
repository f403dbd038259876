/**
 * Starts the same NIAH sweep on several registered endpoints and waits for all of them, with one
 * progress bar each; prints each run's average score and where to look. Exit status 1 when any
 * run did not succeed.
 *
 *   CTXLAB_URL=http://localhost:3000 CTXLAB_TOKEN=ctx_tok_… \
 *     node --import tsx tools/scripts/sweep-endpoints.ts --endpoints vllm-a,vllm-b \
 *       --lengths 1000,2000,4000 --depths 0,0.5,1 [--tokenizer llama3] [--samples 1] [--concurrency 4] [--name nightly]
 */
import { MultiBar, Presets } from 'cli-progress';
import { args, clientFromEnv, fail, portalUrl } from './client';

const list = (s: string | true | undefined, what: string) => {
  if (typeof s !== 'string' || !s.trim()) fail(`--${what} is required (comma-separated)`);
  return s.split(',').map((x) => x.trim()).filter(Boolean);
};

async function main() {
  const { flags } = args();
  const endpoints = list(flags.endpoints, 'endpoints');
  const lengths = list(flags.lengths, 'lengths').map(Number);
  const depths = list(flags.depths ?? '0,0.25,0.5,0.75,1', 'depths').map(Number);
  if (lengths.some((n) => !Number.isInteger(n) || n <= 0)) fail('--lengths must be positive whole numbers of tokens');
  if (depths.some((d) => !(d >= 0 && d <= 1))) fail('--depths must be fractions between 0 and 1');
  const api = clientFromEnv();
  const all = (await api.endpoints.list.query({ limit: 200 })).items;
  const missing = endpoints.filter((n) => !all.some((e) => e.name === n));
  if (missing.length) fail(`no endpoint named ${missing.join(', ')} (registered: ${all.map((e) => e.name).join(', ') || 'none'})`);
  const name = typeof flags.name === 'string' ? flags.name : 'sweep';
  const runs = [];
  for (const n of endpoints) {
    const ep = all.find((e) => e.name === n)!;
    const r = await api.evals.start.mutate({
      name: `${name} · ${n}`,
      endpointId: ep.id,
      concurrency: Number(flags.concurrency ?? 4),
      spec: {
        variant: 'value',
        tokenizer: (typeof flags.tokenizer === 'string' ? flags.tokenizer : 'llama3') as 'llama3',
        seed: Number(flags.seed ?? 0),
        grid: { lengths: { kind: 'list', values: lengths }, depths: { kind: 'list', values: depths }, samples: Number(flags.samples ?? 1) },
      },
    });
    runs.push({ endpoint: n, runId: r.evalRun.id, jobId: r.job.id, total: r.evalRun.cellsTotal });
  }
  const bars = new MultiBar({ format: '{endpoint} |{bar}| {value}/{total} cells · {status}', stream: process.stderr, noTTYOutput: true, notTTYSchedule: 5000, hideCursor: true }, Presets.shades_classic);
  const byRun = new Map(runs.map((r) => [r.runId, bars.create(r.total, 0, { endpoint: r.endpoint.padEnd(Math.max(...endpoints.map((e) => e.length))), status: 'queued' })]));
  const final = new Map<string, { status: string; error: string | null }>();
  while (final.size < runs.length) {
    for (const r of runs) {
      if (final.has(r.runId)) continue;
      const job = await api.jobs.get.query({ id: r.jobId });
      const p = (job.progress ?? {}) as { done?: number };
      byRun.get(r.runId)!.update(p.done ?? 0, { status: job.status });
      if (['succeeded', 'failed', 'cancelled'].includes(job.status)) final.set(r.runId, { status: job.status, error: job.error });
    }
    if (final.size < runs.length) await new Promise((ok) => setTimeout(ok, 1000));
  }
  bars.stop();
  const base = portalUrl();
  for (const r of runs) {
    const heat = await api.evals.heatmap.query({ id: r.runId });
    const f = final.get(r.runId)!;
    console.log(`${r.endpoint}\t${f.status}\taverage ${heat.average === null ? '—' : heat.average.toFixed(1)}\t${base}/evals/${r.runId}${f.error ? `\t${f.error}` : ''}`);
  }
  if ([...final.values()].some((f) => f.status !== 'succeeded')) process.exitCode = 1;
}

main().catch((e: Error) => fail(`sweep-endpoints: ${e.message}`));
