import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { thrownBy } from '@ctxlab/testing/errors';
import { BenchmarkFormatError } from './errors';

/** libs/capability/fixtures: small files in the benchmarks' exact formats (content written for ctxlab). */
export const FIXTURES = resolve(import.meta.dirname, '../../fixtures');

/** Every file under fixtures/{dir}, named relative to fixtures/ ("longbench/qasper.jsonl"). */
export function fixtureFiles(dir: string): { name: string; text: string }[] {
  const out: { name: string; text: string }[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else out.push({ name: relative(FIXTURES, p).split('\\').join('/'), text: readFileSync(p, 'utf8') });
    }
  };
  walk(join(FIXTURES, dir));
  return out;
}

export function fixture(name: string): { name: string; text: string } {
  return { name, text: readFileSync(join(FIXTURES, name), 'utf8') };
}

/** The BenchmarkFormatError `fn` throws; any other outcome fails the calling test. */
export const errorOf = (fn: () => unknown): BenchmarkFormatError => thrownBy(BenchmarkFormatError, fn);
