/**
 * `npm run bench`: finds every `*.bench.ts` under apps/, libs/ and tools/, runs each one's default
 * export, prints one table and writes bench/results/<suite>.json plus bench/results/all.json.
 * A benchmark may be selected by a substring: `npm run bench -- longctx`.
 */
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { prepareBenchEnv, type BenchResult } from './harness';

const root = resolve(import.meta.dirname, '../..');
prepareBenchEnv();

function find(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) find(p, out);
    else if (name.endsWith('.bench.ts')) out.push(p);
  }
  return out;
}

const filter = process.argv.slice(2).find((a) => !a.startsWith('-'));
const files = ['apps', 'libs', 'tools']
  .flatMap((d) => find(join(root, d)))
  .filter((f) => !filter || f.includes(filter))
  .sort();

const all: BenchResult[] = [];
const failures: string[] = [];
for (const file of files) {
  const rel = relative(root, file);
  process.stderr.write(`bench: ${rel}\n`);
  try {
    const mod = (await import(pathToFileURL(file).href)) as { default: () => Promise<BenchResult[]> };
    const rows = await mod.default();
    all.push(...rows);
    const suite = rows[0]?.suite ?? rel;
    mkdirSync(join(root, 'bench/results'), { recursive: true });
    writeFileSync(
      join(root, 'bench/results', `${suite}.json`),
      JSON.stringify({ suite, file: rel, measuredAt: new Date().toISOString(), node: process.version, results: rows }, null, 2),
    );
  } catch (e) {
    failures.push(`${rel}: ${(e as Error).stack ?? e}`);
  }
}

const fmt = (v: number) => (Math.abs(v) >= 1000 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(3));
const header = ['suite', 'benchmark', 'value', 'unit', 'target', 'met'];
const rows = all.map((r) => [r.suite, r.name, fmt(r.value), r.unit, r.target ?? '', r.pass === undefined ? '' : r.pass ? 'yes' : 'NO']);
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
console.log(line(header));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const r of rows) console.log(line(r));
writeFileSync(join(root, 'bench/results/all.json'), JSON.stringify({ measuredAt: new Date().toISOString(), node: process.version, results: all }, null, 2));
if (failures.length) console.error(`\n${failures.length} benchmark file(s) failed:\n${failures.join('\n')}`);
// A benchmark may leave a client open (a queue producer, a pool): the results are written, so the run ends here.
process.exit(failures.length ? 1 : 0);
