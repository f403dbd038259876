/**
 * A benchmark file that does not have its official format. The message names the file, the
 * line (1-based; the line a CSV record starts on) and the field, like
 * `longbench/qasper.jsonl:3: answers: must be an array of strings`.
 */
export class BenchmarkFormatError extends Error {
  readonly code = 'BENCHMARK_FORMAT';
  constructor(
    readonly file: string,
    readonly line: number | null,
    readonly field: string | null,
    readonly reason: string,
  ) {
    super(`${file}${line === null ? '' : `:${line}`}: ${field === null ? '' : `${field}: `}${reason}`);
    this.name = 'BenchmarkFormatError';
  }
}

/** The last path segment of a file name, whichever separator it uses. */
export function baseName(file: string): string {
  const i = Math.max(file.lastIndexOf('/'), file.lastIndexOf('\\'));
  return i < 0 ? file : file.slice(i + 1);
}
