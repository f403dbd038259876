/**
 * `ctxlab datasets import PATH --format longbench|infinitebench|mmlu`: a benchmark's files as their
 * authors publish them — LongBench's data/*.jsonl, InfiniteBench's per-task .jsonl, MMLU's data/
 * folder of per-subject CSVs (dev/, val/, test/) — checked here with the format's own parser (so a
 * bad file is named with its line and field before anything is sent), then stored unchanged.
 */
import type { createClient } from '@ctxlab/api/client';
import { BenchmarkFormatError, summarizeBenchmarkFiles } from '@ctxlab/capability';
import { fileDocuments, MAX_CORPUS_DOCUMENT_CHARS } from '@ctxlab/contracts';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative, sep } from 'node:path';
import { table } from './table';

type Api = ReturnType<typeof createClient>;
const FORMATS = ['longbench', 'infinitebench', 'mmlu'] as const;

/** Files under a path (the path itself when it is a file) with the format's extension, named relative to it. */
function benchmarkFiles(path: string, ext: string): { name: string; path: string }[] {
  if (statSync(path).isFile()) return [{ name: basename(path), path }];
  const out: { name: string; path: string }[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(ext)) out.push({ name: relative(path, p).split(sep).join('/'), path: p });
    }
  };
  walk(path);
  return out;
}

/** The task a file holds, judged by its name (LongBench and InfiniteBench: the file name; MMLU: the subject before _dev/_val/_test). */
const taskOfFile = (format: (typeof FORMATS)[number], name: string) => {
  const base = basename(name).replace(/\.(jsonl|csv)$/, '');
  return format === 'mmlu' ? base.replace(/_(dev|val|test)$/, '') : base;
};

export async function importBenchmarkFiles(api: Api, path: string, values: Record<string, unknown>): Promise<{ data: unknown; text: string }> {
  const format = values.format as (typeof FORMATS)[number];
  if (!FORMATS.includes(format)) throw new Error(`--format must be longbench, infinitebench or mmlu, got ${String(values.format)}`);
  const only = values.tasks === undefined ? null : new Set(String(values.tasks).split(',').map((t) => t.trim()));
  const found = benchmarkFiles(path, format === 'mmlu' ? '.csv' : '.jsonl').filter((f) => !only || only.has(taskOfFile(format, f.name)));
  if (found.length === 0) throw new Error(`${path} has no ${format === 'mmlu' ? '.csv' : '.jsonl'} files${only ? ` for ${[...only].join(', ')}` : ''}`);
  const files = found.map((f) => ({ name: f.name, text: readFileSync(f.path, 'utf8') }));
  let summary;
  try {
    summary = summarizeBenchmarkFiles(files);
  } catch (e) {
    if (e instanceof BenchmarkFormatError) throw new Error(`${path}: ${e.message}`);
    throw e;
  }
  if (summary.format !== format) throw new Error(`${path} holds ${summary.format} files, not ${format}`);
  const d = await api.datasets.importBenchmark.mutate({
    name: (values.name as string | undefined) ?? basename(path).replace(/\.(jsonl|csv)$/, ''),
    format,
    source: `${format} files from ${basename(path)} (${files.length} file${files.length === 1 ? '' : 's'})`,
    documents: files.flatMap((f) => fileDocuments(f.name, f.text, MAX_CORPUS_DOCUMENT_CHARS)),
  });
  const rows = Object.entries(d.tasks).map(([task, t]) => [task, t.items, t.digest.slice(0, 19)]);
  return { data: d, text: `${table(['task', 'items', 'sha256'], rows)}\nimported ${d.name}: ${format}, ${rows.length} tasks, ${d.bytes.toLocaleString('en-US')} bytes, ${d.digest}` };
}
