import type { IssueLog } from './issues';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

export const isObject = (v: Json | undefined): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** How a JSON value reads in a message: 32, "32" (a string), null, an array, an object. */
export function describe(v: Json | undefined): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'string') return `${JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v)} (a string)`;
  if (Array.isArray(v)) return 'an array';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'an object';
  return String(v);
}

/** Parses a JSON file that must hold an object; a parse error or another type is fatal and names the file. */
export function parseObject(log: IssueLog, file: string, text: string): JsonObject {
  let v: Json;
  try {
    v = JSON.parse(text) as Json;
  } catch (e) {
    return log.fail(file, '(file)', `is not valid JSON: ${(e as Error).message}`);
  }
  if (!isObject(v)) return log.fail(file, '(file)', `must hold a JSON object, got ${describe(v)}`);
  return v;
}

/**
 * Typed reads of one JSON object's fields: each returns the value, or undefined after logging an
 * error naming the file and field (missing when `required`, wrong type always).
 */
export class Fields {
  constructor(
    private readonly log: IssueLog,
    readonly file: string,
    readonly obj: JsonObject,
  ) {}

  has(field: string): boolean {
    return this.obj[field] !== undefined && this.obj[field] !== null;
  }

  private missing(field: string, what: string, required: boolean): undefined {
    if (required) this.log.error(this.file, field, `${field} is missing; it is required (${what})`);
    return undefined;
  }

  private wrong(field: string, expected: string): undefined {
    this.log.error(this.file, field, `${field} must be ${expected}, got ${describe(this.obj[field])}`);
    return undefined;
  }

  /** A positive integer (counts and sizes). */
  positiveInt(field: string, what: string, required = true): number | undefined {
    const v = this.obj[field];
    if (v === undefined || v === null) return this.missing(field, what, required);
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) return this.wrong(field, 'a positive integer');
    return v;
  }

  /** A finite number > 0 (or ≥ 0 with `allowZero`). */
  positiveNumber(field: string, what: string, required = true, allowZero = false): number | undefined {
    const v = this.obj[field];
    if (v === undefined || v === null) return this.missing(field, what, required);
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) return this.wrong(field, allowZero ? 'a number ≥ 0' : 'a positive number');
    return v;
  }

  boolean(field: string, what: string, required = false): boolean | undefined {
    const v = this.obj[field];
    if (v === undefined || v === null) return this.missing(field, what, required);
    if (typeof v !== 'boolean') return this.wrong(field, 'true or false');
    return v;
  }

  string(field: string, what: string, required = false): string | undefined {
    const v = this.obj[field];
    if (v === undefined || v === null) return this.missing(field, what, required);
    if (typeof v !== 'string') return this.wrong(field, 'a string');
    return v;
  }

  /** A list of strings. */
  strings(field: string, what: string, required = false): string[] | undefined {
    const v = this.obj[field];
    if (v === undefined || v === null) return this.missing(field, what, required);
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) return this.wrong(field, 'a list of strings');
    return v as string[];
  }

  /** A non-negative integer or a list of them (token ids). */
  tokenIds(field: string): number[] | undefined {
    const v = this.obj[field];
    if (v === undefined || v === null) return undefined;
    const list = Array.isArray(v) ? v : [v];
    if (list.some((x) => typeof x !== 'number' || !Number.isInteger(x) || x < 0)) return this.wrong(field, 'a token id or a list of token ids');
    return list as number[];
  }
}
