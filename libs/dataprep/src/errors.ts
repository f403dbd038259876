import { DomainError } from '@ctxlab/contracts';

export type DataprepErrorCode =
  /** The plan itself is wrong (a field of PreparePlan). */
  | 'INVALID_PLAN'
  /** A source file is wrong: bad JSON, a missing or mistyped field, an unreadable path. */
  | 'INVALID_SOURCE'
  /** The data cannot be prepared as asked (e.g. a source yields no tokens, a text with no safe cut). */
  | 'UNPREPARABLE'
  /** The output directory cannot be used. */
  | 'INVALID_OUTPUT';

/** Where in the inputs an error is: a file (and line), or a plan field. */
export interface ErrorPlace {
  file?: string;
  /** 1-based line of a JSONL file. */
  line?: number;
  /** The plan field (`sources[1].ratio`) or record field (`messages[2].content`). */
  field?: string;
}

/**
 * Every error this library throws. The message starts with the place ("docs.jsonl:17: field
 * "text" is missing"), so it reads on its own in a log or a form.
 */
export class DataprepError extends DomainError<DataprepErrorCode> {
  override readonly name = 'DataprepError';
  readonly file?: string;
  readonly line?: number;
  constructor(code: DataprepErrorCode, message: string, place: ErrorPlace = {}) {
    const where = place.file === undefined ? '' : place.line === undefined ? `${place.file}: ` : `${place.file}:${place.line}: `;
    super('BAD_REQUEST', where + message, place.field, { code, fieldIsInput: false });
    this.file = place.file;
    this.line = place.line;
  }
}

/** `sources.1.ratio` as a person writes it: `sources[1].ratio`. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out;
}
