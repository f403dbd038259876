import { DataTable, fmtInt, KeyValues, LineChart, StatusBadge } from '@ctxlab/ui';
import { perplexityCheckSchema, perplexitySpecSchema } from '@ctxlab/contracts';
import Link from 'next/link';
import type { Out } from '../lib/types';
import { JobLive } from './JobLive';

type Run = Out['evals']['get'];
type Cells = Out['evals']['cells'];

/**
 * A local check's result: perplexity against context length as a curve (geometric mean over the
 * samples of each length) with the theta each length ran at, or the round-trip checks as a table.
 */
export function CheckResult({ run, cells, job, events }: { run: Run; cells: Cells; job: Out['portal']['job'] | null; events: Out['jobs']['events'] }) {
  // A local check's spec, or (endpoint perplexity, a suite run) the suite's: each read with its schema.
  const check = perplexityCheckSchema.safeParse(run.config.spec);
  const suite = perplexitySpecSchema.safeParse(run.config.spec);
  const rows = cells.items;
  const lengths = [...new Set(rows.map((c) => c.contextLength))].sort((a, b) => a - b);
  const geo = (xs: number[]) => Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length);
  const byLength = lengths.map((l) => {
    const xs = rows.filter((c) => c.contextLength === l && c.score !== null).map((c) => c.score!);
    return { x: l, y: xs.length ? geo(xs) : null };
  });
  const maxY = Math.max(1, ...byLength.map((p) => p.y ?? 0));
  const rule = check.success ? check.data.thetaRule : undefined;
  // Endpoint perplexity (a suite run) shares the local check's cells and this view.
  const endpointRun = suite.success ? { corpus: suite.data.corpus, tokenizer: suite.data.tokenizer } : null;
  const ruleText = !rule || rule.kind === 'model' ? "the model's theta" : rule.kind === 'fixed' ? `fixed θ ${fmtInt(rule.theta)}` : rule.kind === 'ntk' ? `NTK-aware for ${fmtInt(rule.targetLength)} tokens` : `dynamic NTK, α ${rule.alpha}`;
  return (
    <>
      {job ? <JobLive initial={job} initialEvents={events} /> : null}
      {run.kind === 'perplexity' ? (
        <section className="panel" aria-labelledby="ppl-h">
          <h2 id="ppl-h">Perplexity against context length</h2>
          {endpointRun ? (
            <p className="panel-note">Through the endpoint: the prompt&apos;s own log-probabilities (/v1/completions with echo and logprobs), windows of {endpointRun.tokenizer} tokens from {endpointRun.corpus}, one after another from its start; lower is better. The first token of a window has no log-probability and is not counted.</p>
          ) : (
            <p className="panel-note">RoPE base: {ruleText}. Held-out text (State of the Union addresses from 2001 on), byte tokens; lower is better. A model that holds its context keeps the curve flat past its trained length.</p>
          )}
          {byLength.some((p) => p.y !== null) ? (
            <div className="lineage-scroll" data-testid="ppl-curve">
              <LineChart title={`${run.model?.name ?? run.name}: perplexity by context length`} xLabel="context length (tokens)" yLabel="perplexity" yMax={Math.ceil(maxY * 1.1)} series={[{ name: run.name, color: '#2f5bd3', points: byLength }]} />
            </div>
          ) : (
            <p className="empty">No lengths measured yet.</p>
          )}
        </section>
      ) : null}
      <section className="panel" aria-labelledby="checks-h">
        <h2 id="checks-h">{run.kind === 'perplexity' ? 'Windows' : 'Round trips'}</h2>
        <DataTable
          caption={run.kind === 'perplexity' ? 'Perplexity per text window' : 'Round-trip checks'}
          rows={rows}
          empty="No results yet."
          columns={
            run.kind === 'perplexity'
              ? [
                  { header: 'Length', numeric: true, cell: (c) => fmtInt(c.contextLength) },
                  { header: 'Sample', numeric: true, cell: (c) => c.sample },
                  { header: 'Perplexity', numeric: true, cell: (c) => (c.score === null ? '—' : c.score.toFixed(3)) },
                  { header: 'Detail', cell: (c) => c.response ?? c.error ?? '' },
                  { header: 'ms', numeric: true, cell: (c) => (c.latencyMs === null ? '—' : fmtInt(c.latencyMs)) },
                ]
              : [
                  { header: 'Check', cell: (c) => c.needle ?? '' },
                  { header: 'Sample', numeric: true, cell: (c) => c.sample },
                  { header: 'Result', cell: (c) => <StatusBadge status={c.score === 100 ? 'ok' : 'failed'} /> },
                  { header: 'Detail', cell: (c) => c.response ?? c.error ?? '' },
                ]
          }
        />
      </section>
      <section className="panel" aria-labelledby="cfg-h">
        <h2 id="cfg-h">Configuration</h2>
        <KeyValues items={[['kind', run.kind], ['model', run.model ? <Link key="m" href={`/models/${run.model.id}`}>{run.model.name}</Link> : '—'], ['spec', <code key="s">{JSON.stringify(run.config.spec ?? {})}</code>]]} />
      </section>
    </>
  );
}
