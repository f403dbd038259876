export type NiahErrorCode =
  | 'EMPTY_CORPUS'
  | 'UNKNOWN_CORPUS'
  | 'LENGTH_TOO_SHORT'
  | 'UNSUPPORTED_VARIANT'
  | 'INVALID_SPEC'
  | 'PREFIX_CACHE_TOO_SMALL';

/**
 * A bad NIAH input: `code` for machines, `message` for the person who can fix it. UNKNOWN_CORPUS
 * maps to NOT_FOUND, everything else to BAD_REQUEST (libs/api does the mapping).
 */
export class NiahError extends Error {
  override readonly name = 'NiahError';
  constructor(
    readonly code: NiahErrorCode,
    message: string,
    /** The spec field the message is about, when there is one. */
    readonly field?: string,
  ) {
    super(message);
  }
}
