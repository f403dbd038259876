import { DomainError } from '@ctxlab/contracts';

/** Codes for inputs the planners cannot work with; the API layer maps them to BAD_REQUEST. */
export type LongctxErrorCode =
  | 'INVALID_LENGTH'
  | 'INVALID_THETA'
  | 'INVALID_HEAD_DIM'
  | 'INVALID_FACTOR'
  | 'INVALID_TENSOR_PARALLEL'
  | 'INVALID_GPU'
  | 'INVALID_MFU'
  | 'INVALID_MEMORY'
  | 'INVALID_TOKENS'
  | 'UNKNOWN_MODULE';

/**
 * A bad input to a longctx planner: `code` for machines, `message` for the person who can fix it.
 * Always a bad request to the API; `field` names the planner's argument, not the API input's path.
 */
export class LongctxError extends DomainError<LongctxErrorCode> {
  override readonly name = 'LongctxError';
  constructor(
    code: LongctxErrorCode,
    message: string,
    /** The input field the message is about, when there is one. */
    field?: string,
  ) {
    super('BAD_REQUEST', message, field, { code, fieldIsInput: false });
  }
}

/** Throws unless `v` is a finite number > 0. */
export function requirePositive(v: number, field: string, code: LongctxErrorCode): void {
  if (!Number.isFinite(v) || v <= 0) throw new LongctxError(code, `${field} must be a positive number, got ${v}`, field);
}

/** Throws unless `v` is an integer > 0. */
export function requirePositiveInt(v: number, field: string, code: LongctxErrorCode): void {
  if (!Number.isInteger(v) || v <= 0) throw new LongctxError(code, `${field} must be a positive integer, got ${v}`, field);
}
