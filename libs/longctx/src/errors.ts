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
  | 'UNKNOWN_MODULE';

/** A bad input to a longctx planner: `code` for machines, `message` for the person who can fix it. */
export class LongctxError extends Error {
  override readonly name = 'LongctxError';
  constructor(
    readonly code: LongctxErrorCode,
    message: string,
    /** The input field the message is about, when there is one. */
    readonly field?: string,
  ) {
    super(message);
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
