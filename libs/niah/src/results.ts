import { heatmapMatrix, type HeatmapData, type NiahCellResult } from '@ctxlab/contracts';
import type { CompletionOutcome } from './client';
import { type NiahCell, scoreNiahCell } from './engine';

/**
 * A cell's result. Only a successful request is scored: a failed one keeps score, response and
 * latency null and says why in `error` — never a silent 0 for an empty answer.
 */
export function toCellResult(cell: NiahCell, outcome: CompletionOutcome): NiahCellResult {
  const base = {
    cellId: cell.id,
    length: cell.length,
    depth: cell.depth,
    sample: cell.sample,
    promptTokens: cell.promptTokens,
    needle: cell.needle,
    expected: cell.expected,
  };
  if (!outcome.ok) return { ...base, response: null, score: null, latencyMs: null, error: `${outcome.kind}: ${outcome.error} ${attemptsSuffix(outcome.attempts)}` };
  return { ...base, response: outcome.text, score: scoreNiahCell(cell, outcome.text), latencyMs: outcome.latencyMs, error: null };
}

const attemptsWord = (n: number) => `${n} attempt${n === 1 ? '' : 's'}`;
/** The end of a failed cell's error: how many requests it really took (1 when the error was not worth retrying). */
const attemptsSuffix = (n: number) => `(after ${attemptsWord(n)})`;
const SUFFIX = /\s*\(after (\d+) attempts?\)$/;

/**
 * What a run with failed cells says, once: "3 of 220 cells failed after 5 attempts each; last
 * error: http: HTTP 500: …". The attempts are the cells' own (a 400 is not retried, so "after 1
 * attempt"), read from their errors, and the last error is quoted without its own count.
 * `errors` are the failed cells' errors, oldest first.
 */
export function failedCellsMessage(total: number, errors: readonly string[]): string {
  const counts = errors.map((e) => SUFFIX.exec(e)?.[1]).filter((x): x is string => x !== undefined).map(Number);
  const lo = Math.min(...counts);
  const hi = Math.max(...counts);
  const each = errors.length > 1 ? ' each' : '';
  const attempts = counts.length !== errors.length || counts.length === 0 ? '' : lo === hi ? ` after ${attemptsWord(lo)}${each}` : ` after ${lo} to ${hi} attempts`;
  const last = errors.at(-1)?.replace(SUFFIX, '');
  return `${errors.length} of ${total} cells failed${attempts}${last ? `; last error: ${last}` : ''}`;
}

const CSV_COLUMNS = ['cell_id', 'length', 'depth', 'depth_percent', 'sample', 'prompt_tokens', 'needle', 'expected', 'response', 'score', 'latency_ms', 'error'] as const;

function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'string' ? v : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function csvText(columns: readonly string[], rows: Iterable<readonly unknown[]>): string {
  const lines = [columns.join(',')];
  for (const r of rows) lines.push(r.map(csvField).join(','));
  return lines.join('\r\n') + '\r\n';
}

const depthPercentOf = (depth: number) => Math.round(depth * 100_000) / 1000;

/** RFC 4180 CSV, one row per cell; failed cells have an empty score and their error. */
export function resultsToCsv(rows: readonly NiahCellResult[]): string {
  return csvText(
    CSV_COLUMNS,
    rows.map((r) => [r.cellId, r.length, r.depth, depthPercentOf(r.depth), r.sample, r.promptTokens, r.needle, r.expected.join(' | '), r.response, r.score, r.latencyMs === null ? null : Math.round(r.latencyMs), r.error]),
  );
}

/** One recorded cell of a suite run (RULER, topic retrieval), as the registry stores it. */
export interface SuiteCellRow {
  task: string;
  /** RULER: the requested context length; topic retrieval: the number of topics. */
  length: number;
  depth: number;
  sample: number;
  promptTokens: number | null;
  /** Reference answers joined with " | ". */
  expected: string | null;
  response: string | null;
  score: number | null;
  latencyMs: number | null;
  attempts: number;
  error: string | null;
}

export const SUITE_CSV_COLUMNS = ['task', 'length', 'depth', 'depth_percent', 'sample', 'prompt_tokens', 'expected', 'response', 'score', 'latency_ms', 'attempts', 'error'] as const;

/** A suite run's cells as RFC 4180 CSV with the task in the first column; failed cells have an empty score and their error. */
export function suiteCellsToCsv(rows: readonly SuiteCellRow[]): string {
  return csvText(
    SUITE_CSV_COLUMNS,
    rows.map((r) => [r.task, r.length, r.depth, depthPercentOf(r.depth), r.sample, r.promptTokens, r.expected, r.response, r.score, r.latencyMs === null ? null : Math.round(r.latencyMs), r.attempts, r.error]),
  );
}

/** One file of gkamradt's LLMNeedleHaystackTester results layout. */
export interface GkamradtRecord {
  model: string;
  context_length: number;
  depth_percent: number;
  version: number;
  needle: string;
  model_response: string;
  score: number;
  test_duration_seconds: number;
  test_timestamp_utc: string;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** Python's datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M:%S%z'). */
export function pythonUtcTimestamp(d: Date): string {
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}+0000`;
}

export interface GkamradtExportOptions {
  model: string;
  version?: number;
  timestamp?: Date;
  /** Scores are 0–100; the original harness' LLM judge wrote 1–10 (scale 0.1), 360Zhinao's value files 0–1 (0.01). */
  scoreScale?: number;
}

/**
 * Scored cells as gkamradt's per-cell JSON files (`{model}_len_{L}_depth_{int(depth_percent*100)}_results.json`),
 * which existing plotting notebooks read. Failed cells have no score and are left out (listed in `skipped`).
 */
export function toGkamradtResults(
  rows: readonly NiahCellResult[],
  opts: GkamradtExportOptions,
): { files: { fileName: string; record: GkamradtRecord }[]; skipped: string[] } {
  const files: { fileName: string; record: GkamradtRecord }[] = [];
  const skipped: string[] = [];
  const stamp = pythonUtcTimestamp(opts.timestamp ?? new Date());
  for (const r of rows) {
    if (r.score === null || r.response === null) {
      skipped.push(r.cellId);
      continue;
    }
    const depthPercent = depthPercentOf(r.depth);
    const sampleSuffix = r.sample > 0 ? `_sample_${r.sample}` : '';
    files.push({
      fileName: `${opts.model.replace(/\./g, '_').replace(/\//g, '_')}_len_${r.length}_depth_${Math.trunc(depthPercent * 100)}${sampleSuffix}_results.json`,
      record: {
        model: opts.model,
        context_length: r.length,
        depth_percent: depthPercent,
        version: opts.version ?? 1,
        needle: r.needle,
        model_response: r.response,
        score: r.score * (opts.scoreScale ?? 1),
        test_duration_seconds: (r.latencyMs ?? 0) / 1000,
        test_timestamp_utc: stamp,
      },
    });
  }
  return { files, skipped };
}

/**
 * The heatmap of samples held in memory (the CLI's results.jsonl), by the matrix builder the API
 * uses for PostgreSQL's cell aggregates: a cell is the mean of its scored samples; a failed sample
 * counts in `failed` and never as a 0.
 */
export function heatmapData(rows: readonly NiahCellResult[], axes?: { lengths?: number[]; depths?: number[] }): HeatmapData {
  const samples = rows.map((r) => ({ length: r.length, depth: r.depth, sum: r.score ?? 0, n: r.score === null ? 0 : 1, failed: r.score === null ? 1 : 0 }));
  return heatmapMatrix(samples, axes);
}
