import { BenchmarkFormatError } from './errors';

/** One parsed JSONL record and the line it was on. */
export interface JsonlRecord {
  line: number;
  value: Record<string, unknown>;
}

/**
 * JSON Lines as both benchmarks read them (LongBench: datasets' JSON loader; InfiniteBench:
 * `json.loads(line)` per line in src/eval_utils.py iter_jsonl): one JSON object per line, LF or
 * CRLF. A BOM before the first line and blank lines at the end of the file are tolerated; a blank
 * line anywhere else is an error (json.loads("") raises there too).
 */
export function readJsonl(file: string, text: string): JsonlRecord[] {
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  let end = lines.length;
  while (end > 0 && lines[end - 1]!.trim() === '') end--;
  const out: JsonlRecord[] = [];
  for (let i = 0; i < end; i++) {
    const raw = lines[i]!.endsWith('\r') ? lines[i]!.slice(0, -1) : lines[i]!;
    if (raw.trim() === '') throw new BenchmarkFormatError(file, i + 1, null, 'empty line (each line must hold one JSON object)');
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (e) {
      throw new BenchmarkFormatError(file, i + 1, null, `not valid JSON (${(e as Error).message})`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new BenchmarkFormatError(file, i + 1, null, 'must be a JSON object');
    }
    out.push({ line: i + 1, value: value as Record<string, unknown> });
  }
  if (out.length === 0) throw new BenchmarkFormatError(file, null, null, 'holds no records');
  return out;
}

/** Field checks that throw BenchmarkFormatError naming the file, line and field. */
export class FieldReader {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly obj: Record<string, unknown>,
  ) {}

  fail(field: string, reason: string): never {
    throw new BenchmarkFormatError(this.file, this.line, field, reason);
  }

  private present(field: string): unknown {
    if (!Object.prototype.hasOwnProperty.call(this.obj, field)) this.fail(field, 'missing');
    return this.obj[field];
  }

  string(field: string): string {
    const v = this.present(field);
    if (typeof v !== 'string') this.fail(field, 'must be a string');
    return v;
  }

  integer(field: string, min = 0): number {
    const v = this.present(field);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) this.fail(field, `must be an integer >= ${min}`);
    return v;
  }

  strings(field: string): string[] {
    const v = this.present(field);
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) this.fail(field, 'must be an array of strings');
    return v as string[];
  }

  stringsOrNull(field: string): string[] | null {
    const v = this.present(field);
    if (v === null) return null;
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) this.fail(field, 'must be null or an array of strings');
    return v as string[];
  }

  raw(field: string): unknown {
    return this.present(field);
  }
}
