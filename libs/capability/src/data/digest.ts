import { sha256Hex } from '@ctxlab/niah';
import { BenchmarkFormatError, baseName } from './errors';
import { infiniteBenchTaskOfFile, parseInfiniteBenchJsonl } from './infinitebench';
import { longBenchTaskOf, parseLongBenchJsonl } from './longbench';
import { parseMmluCsv } from './mmlu';

export type BenchmarkFormat = 'longbench' | 'infinitebench' | 'mmlu';

export interface BenchmarkFileSummary {
  format: BenchmarkFormat;
  /**
   * Per task: LongBench the file's dataset ("qasper", "qasper_e"), InfiniteBench the task,
   * MMLU `{subject}_{split}` (the file name without .csv). `digest` is the sha256 (hex) of the
   * file's text as UTF-8.
   */
  tasks: Record<string, { items: number; digest: string }>;
}

/** sha256 (hex) of a file's text encoded as UTF-8. */
export function digestText(text: string): string {
  return sha256Hex(text);
}

/**
 * Which benchmark a file belongs to, from its name and, for LongBench (whose files are named
 * after any dataset), its first line: `*.csv` named `{subject}_{split}.csv` is MMLU; a `.jsonl`
 * named as an InfiniteBench file is InfiniteBench; a `.jsonl` whose name (without `.jsonl`) is a
 * LongBench dataset, or whose first line has `_id` and `dataset`, is LongBench.
 */
export function detectBenchmarkFormat(name: string, text: string): BenchmarkFormat | undefined {
  const base = baseName(name);
  if (/_(dev|val|test)\.csv$/.test(base)) return 'mmlu';
  if (!base.endsWith('.jsonl')) return undefined;
  if (infiniteBenchTaskOfFile(base)) return 'infinitebench';
  if (longBenchTaskOf(base.slice(0, -'.jsonl'.length))) return 'longbench';
  const firstLine = text.replace(/^\uFEFF/, '').split('\n', 1)[0] ?? '';
  try {
    const v = JSON.parse(firstLine) as unknown;
    if (v && typeof v === 'object' && '_id' in v && 'dataset' in v) return 'longbench';
  } catch {
    /* not JSON: undetected */
  }
  return undefined;
}

/**
 * Parses every file (so a malformed one fails with its file, line and field), checks they all
 * belong to one benchmark, and counts items and digests per task. Refuses an empty list, files
 * of unknown or mixed formats, and two files for the same task.
 */
export function summarizeBenchmarkFiles(files: readonly { name: string; text: string }[]): BenchmarkFileSummary {
  if (files.length === 0) throw new Error('no benchmark files given');
  const byFormat = new Map<BenchmarkFormat, string[]>();
  for (const f of files) {
    const format = detectBenchmarkFormat(f.name, f.text);
    if (!format) {
      throw new BenchmarkFormatError(f.name, null, null, 'not a LongBench, InfiniteBench or MMLU file (expected {dataset}.jsonl, {task}.jsonl or {subject}_{dev|val|test}.csv)');
    }
    byFormat.set(format, [...(byFormat.get(format) ?? []), f.name]);
  }
  if (byFormat.size > 1) {
    const list = [...byFormat].map(([format, names]) => `${format} (${names.slice(0, 3).join(', ')}${names.length > 3 ? ', …' : ''})`);
    throw new Error(`benchmark files must all be of one format, got a mixture: ${list.join('; ')}`);
  }
  const format = [...byFormat.keys()][0]!;
  const tasks: Record<string, { items: number; digest: string }> = {};
  const from: Record<string, string> = {};
  for (const f of files) {
    let task: string;
    let items: number;
    if (format === 'longbench') {
      const parsed = parseLongBenchJsonl(f.name, f.text);
      task = parsed[0]!.dataset;
      items = parsed.length;
    } else if (format === 'infinitebench') {
      const parsed = parseInfiniteBenchJsonl(f.name, f.text);
      task = parsed.task;
      items = parsed.items.length;
    } else {
      const parsed = parseMmluCsv(f.name, f.text);
      task = `${parsed.subject}_${parsed.split}`;
      items = parsed.items.length;
    }
    if (from[task] !== undefined) throw new BenchmarkFormatError(f.name, null, null, `holds ${task} again (already in ${from[task]})`);
    from[task] = f.name;
    tasks[task] = { items, digest: digestText(f.text) };
  }
  return { format, tasks };
}
