import { depthPercent, EmptyState, fmtDate, fmtInt, KeyValues } from '@ctxlab/ui';
import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { one, PageHead, type SearchParams } from '../../../../src/components/EntityList';
import { ScoreChip } from '../../../../src/components/ScoreChip';
import { cellHref } from '../../../../src/lib/links';
import { api, loadOr404 } from '../../../../src/server/api';

export const dynamic = 'force-dynamic';
export const metadata: Metadata = { title: 'Eval cell' };

export default async function CellPage({ params, searchParams }: { params: Promise<{ id: string }>; searchParams: Promise<SearchParams> }) {
  const { id } = await params;
  const sp = await searchParams;
  const length = Number(one(sp.length));
  const depth = Number(one(sp.depth));
  if (!Number.isInteger(length) || length <= 0 || !Number.isFinite(depth) || depth < 0 || depth > 1) notFound();
  const c = await loadOr404(async () => (await api()).portal.evalCell({ evalRunId: id, length, depth }));
  if (!c) notFound();
  const nav = (label: string, to: { length: number; depth: number } | null, arrow: string) =>
    to ? <Link href={cellHref(id, to.length, to.depth)} aria-label={`${label}: ${fmtInt(to.length)} tokens, depth ${depthPercent(to.depth)}%`}>{arrow}</Link> : <span aria-hidden="true">{arrow}</span>;
  return (
    <>
      <PageHead
        crumbs={[['/evals', 'Evals'], [`/evals/${id}`, c.run.name]]}
        title={<>{fmtInt(length)} tokens · depth {depthPercent(depth)}%</>}
        sub={<>Cell {c.position.x + 1} of {c.position.lengths} lengths × {c.position.y + 1} of {c.position.depths} depths{c.spec ? ` · ${c.spec.variant} needle · ${c.spec.tokenizer} tokens` : ''}</>}
        actions={
          <nav className="grid-nav" aria-label="Neighbouring cells">
            <span aria-hidden="true" />{nav('Shallower', c.neighbours.up, '↑')}<span aria-hidden="true" />
            {nav('Shorter', c.neighbours.left, '←')}<span className="here" aria-hidden="true">●</span>{nav('Longer', c.neighbours.right, '→')}
            <span aria-hidden="true" />{nav('Deeper', c.neighbours.down, '↓')}<span aria-hidden="true" />
          </nav>
        }
      />
      {c.samples.length === 0 ? (
        <EmptyState title="Not run yet"><p>This cell is on the run&apos;s grid but has no result yet.</p><Link href={`/evals/${id}`}>Back to the heatmap</Link></EmptyState>
      ) : (
        c.samples.map((s) => (
          <section key={s.id} className="panel" aria-labelledby={`s${s.sample}`} data-testid="cell-sample">
            <div className="panel-head">
              <h2 id={`s${s.sample}`}>Sample {s.sample}</h2>
              <ScoreChip score={s.score} />
            </div>
            <div className="cols">
              <div>
                <KeyValues
                  items={[
                    ['score', s.score === null ? 'not scored (the request failed)' : `${s.score.toFixed(2)} / 100${c.spec?.scorer ? ` (${c.spec.scorer})` : ''}`],
                    ['prompt tokens', `${fmtInt(s.promptTokens)} (asked for ${fmtInt(length)})`],
                    [
                      'needle position',
                      s.needleToken === null
                        ? `depth ${depthPercent(depth)}% → aimed at haystack token ≈ ${fmtInt(c.nominalNeedleToken)}, then moved back to the nearest sentence end${c.spec ? ` (at most ${fmtInt(c.spec.maxWalkTokens)} tokens)` : ''}`
                        : `prompt token ${fmtInt(s.needleToken)} of ${fmtInt(s.promptTokens)} (depth ${depthPercent(depth)}% aimed at ≈ ${fmtInt(c.nominalNeedleToken)}, moved back to the nearest sentence end)`,
                    ],
                    ['latency', s.latencyMs === null ? '—' : `${fmtInt(s.latencyMs)} ms`],
                    ['attempts', s.attempts],
                    ['recorded', fmtDate(s.createdAt)],
                  ]}
                />
              </div>
              <div>
                <div className="field"><span className="label">Needle</span><pre className="response needle" data-testid="cell-needle">{s.needle ?? '—'}</pre></div>
                <div className="field"><span className="label">Expected</span><pre className="response">{s.expected.length ? s.expected.join('\n') : '—'}</pre></div>
              </div>
            </div>
            {s.error ? (
              <div className="callout error" role="alert"><p><strong>The request failed:</strong> {s.error}</p><p>A failed request is recorded with its error and never scored; retry the job to redo it.</p></div>
            ) : (
              <div className="field" style={{ marginTop: 12 }}><span className="label">Full response</span><pre className="response" data-testid="cell-response">{s.response ?? ''}</pre></div>
            )}
          </section>
        ))
      )}
      <p><Link href={`/evals/${id}`}>← Back to the heatmap</Link></p>
    </>
  );
}
