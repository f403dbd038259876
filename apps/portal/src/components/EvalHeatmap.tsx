'use client';

import { COMPACT_HEATMAP_CELLS, heatmapDrawing, heatmapSvg, svgMarkup } from '@ctxlab/contracts';
import { HeatmapExplorer, SCORE_STOP_HEX, type HeatmapCellDetail } from '@ctxlab/ui';
import { useRouter } from 'next/navigation';
import { useEffect, useMemo, useState, useSyncExternalStore } from 'react';
import { browserApi, errorMessage } from '../lib/client';
import { cellHref } from '../lib/links';
import { ErrorCallout } from './FormErrors';

interface Props {
  runId: string;
  runName: string;
  /** Name in the title: the model's, else the run's. */
  titleName: string;
  lengths: number[];
  depths: number[];
  matrix: (number | null)[][];
  /** Null for a large grid: read after the heatmap is on screen. */
  details: (HeatmapCellDetail | null)[][] | null;
  /** Scored samples per cell (matrix-aligned): what a large grid's hover details are completed with. */
  counts: number[][];
  average: number | null;
}

const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'run';

function download(name: string, blob: Blob) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

const CSV_COLUMNS = ['cell_id', 'length', 'depth', 'depth_percent', 'sample', 'prompt_tokens', 'needle', 'expected', 'response', 'score', 'latency_ms', 'error'] as const;
function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
const pct = (d: number) => Math.round(d * 100_000) / 1000;

const noSubscription = () => () => undefined;
/** False on the server and while the page hydrates, true from then on. */
const useHydrated = () => useSyncExternalStore(noSubscription, () => true, () => false);

/** The run's heatmap with hover details, click-through to a cell, and downloads (CSV, JSON, SVG, PNG). */
export function EvalHeatmap(p: Props) {
  const router = useRouter();
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  // A large grid's hover details come after its picture; hovering before they arrive shows the score alone.
  const [details, setDetails] = useState(p.details);
  // A large grid's interactive heatmap is an element per cell and its title (for 100 × 100, a server
  // render of hundreds of milliseconds and 2.4 MB of HTML): the server sends the compact picture
  // (heatmapSvg, 0.17 MB) and the interactive heatmap replaces it once the page runs in the browser.
  const hydrated = useHydrated();
  const staticFirst = !hydrated && p.lengths.length * p.depths.length > COMPACT_HEATMAP_CELLS;
  const picture = useMemo(
    () => (staticFirst ? heatmapSvg({ lengths: p.lengths, depths: p.depths, matrix: p.matrix, average: p.average }, { name: p.titleName, uid: 'static' }) : null),
    [staticFirst, p.lengths, p.depths, p.matrix, p.average, p.titleName],
  );
  useEffect(() => {
    setDetails(p.details);
    if (p.details) return;
    let live = true;
    browserApi()
      .portal.evalResultDetails.query({ id: p.runId })
      .then((d) => {
        if (!live) return;
        // [length, depth, prompt tokens, excerpt, error, latency ms] per cell, placed on this heatmap's axes.
        const rows = JSON.parse(d.rows) as [number, number, number | null, string | null, string | null, number | null][];
        const xs = new Map(p.lengths.map((l, x) => [l, x]));
        const ys = new Map(p.depths.map((v, y) => [v, y]));
        const grid: (HeatmapCellDetail | null)[][] = p.depths.map(() => p.lengths.map(() => null));
        for (const [l, dep, promptTokens, excerpt, err, latencyMs] of rows) {
          const x = xs.get(l);
          const y = ys.get(dep);
          if (x !== undefined && y !== undefined) grid[y]![x] = { promptTokens, excerpt, error: err, latencyMs, samples: p.counts[y]?.[x] ?? 0 };
        }
        setDetails(grid);
      })
      .catch((e: unknown) => live && setError(`hover details: ${errorMessage(e)}`));
    return () => {
      live = false;
    };
  }, [p.runId, p.details, p.lengths, p.depths, p.counts]);

  /** The heatmap as a standalone SVG document: the picture on the page, drawn as the CLI's and the API's heatmap.svg are. */
  const svgDocument = () => {
    const drawing = heatmapDrawing({ lengths: p.lengths, depths: p.depths, matrix: p.matrix, average: p.average, name: p.titleName });
    return { text: `<?xml version="1.0" encoding="UTF-8"?>\n${svgMarkup(drawing)}`, width: Number(drawing.attrs.width), height: Number(drawing.attrs.height) };
  };

  const allCells = async () => {
    const out: Awaited<ReturnType<ReturnType<typeof browserApi>['evals']['cells']['query']>>['items'] = [];
    for (let cursor: string | null | undefined = undefined; cursor !== null; ) {
      const page: Awaited<ReturnType<ReturnType<typeof browserApi>['evals']['cells']['query']>> = await browserApi().evals.cells.query({ evalRunId: p.runId, limit: 2000, ...(cursor ? { cursor } : {}) });
      out.push(...page.items);
      cursor = page.nextCursor;
    }
    return out;
  };

  const run = async (what: string, fn: () => Promise<void>) => {
    setBusy(what);
    setError(null);
    try {
      await fn();
    } catch (e) {
      setError(`${what} export failed: ${errorMessage(e)}`);
    } finally {
      setBusy(null);
    }
  };

  const base = slug(p.runName);
  const exports = {
    CSV: () =>
      run('CSV', async () => {
        const cells = await allCells();
        const lines = [CSV_COLUMNS.join(',')];
        for (const c of cells) {
          lines.push(
            [`L${c.contextLength}-D${pct(c.depth)}-S${c.sample}`, c.contextLength, c.depth, pct(c.depth), c.sample, c.promptTokens, c.needle, c.expected?.split('\n').join(' | '), c.response, c.score, c.latencyMs, c.error]
              .map(csvField)
              .join(','),
          );
        }
        download(`${base}-cells.csv`, new Blob([lines.join('\r\n') + '\r\n'], { type: 'text/csv;charset=utf-8' }));
      }),
    JSON: () =>
      run('JSON', async () => {
        const cells = await allCells();
        const doc = {
          run: { id: p.runId, name: p.runName },
          heatmap: { lengths: p.lengths, depths: p.depths, matrix: p.matrix, average: p.average },
          cells: cells.map((c) => ({
            length: c.contextLength, depth: c.depth, sample: c.sample, promptTokens: c.promptTokens, needle: c.needle, expected: c.expected?.split('\n') ?? [],
            response: c.response, score: c.score, latencyMs: c.latencyMs, error: c.error, attempts: c.attempts,
          })),
        };
        download(`${base}-results.json`, new Blob([JSON.stringify(doc, null, 2)], { type: 'application/json' }));
      }),
    SVG: () => run('SVG', async () => download(`${base}-heatmap.svg`, new Blob([svgDocument().text], { type: 'image/svg+xml' }))),
    PNG: () =>
      run('PNG', async () => {
        const { text, width: w, height: h } = svgDocument();
        const url = URL.createObjectURL(new Blob([text], { type: 'image/svg+xml' }));
        try {
          const img = new Image();
          await new Promise<void>((resolve, reject) => {
            img.onload = () => resolve();
            img.onerror = () => reject(new Error('the browser could not draw the SVG'));
            img.src = url;
          });
          const scale = 2;
          const canvas = document.createElement('canvas');
          canvas.width = w * scale;
          canvas.height = h * scale;
          const ctx = canvas.getContext('2d');
          if (!ctx) throw new Error('no 2D canvas in this browser');
          ctx.scale(scale, scale);
          ctx.drawImage(img, 0, 0, w, h);
          const blob = await new Promise<Blob | null>((r) => canvas.toBlob(r, 'image/png'));
          if (!blob) throw new Error('the canvas could not be encoded as PNG');
          download(`${base}-heatmap.png`, blob);
        } finally {
          URL.revokeObjectURL(url);
        }
      }),
  };

  return (
    <>
      <div className="panel-head">
        <h2 id="heatmap-h">Heatmap</h2>
        <div className="btn-group" role="group" aria-label="Download">
          {(Object.keys(exports) as (keyof typeof exports)[]).map((k) => (
            <button key={k} type="button" className="btn secondary small" onClick={exports[k]} disabled={busy !== null} data-testid={`export-${k.toLowerCase()}`}>
              {busy === k ? `${k}…` : `⤓ ${k}`}
            </button>
          ))}
        </div>
      </div>
      <ErrorCallout message={error} />
      <div className="heatmap-panel" data-testid="heatmap">
        {picture !== null ? (
          <div className="hm-wrap" dangerouslySetInnerHTML={{ __html: picture }} />
        ) : (
          <HeatmapExplorer
            lengths={p.lengths}
            depths={p.depths}
            matrix={p.matrix}
            details={details ?? undefined}
            average={p.average}
            name={p.titleName}
            label={`NIAH heatmap of ${p.runName}`}
            onOpen={(c) => {
              const l = p.lengths[c.x];
              const d = p.depths[c.y];
              if (l !== undefined && d !== undefined) router.push(cellHref(p.runId, l, d));
            }}
          />
        )}
      </div>
      <div className="legend" aria-hidden="true">
        {SCORE_STOP_HEX.map(([score, colour]) => <span key={score}><span className="sw" style={{ background: colour }} />{score}</span>)}
        <span><span className="sw missing" />no score (not run yet, or the request failed)</span>
      </div>
    </>
  );
}
