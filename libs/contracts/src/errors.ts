/**
 * Errors domain code throws. Each carries a status the API maps to a transport status (libs/api's
 * trpc.ts, in one place, by `instanceof DomainError`), and a message a person can act on
 * ("recipe stage 3: …"). Nothing below libs/api knows about HTTP.
 */
export type DomainErrorCode = 'NOT_FOUND' | 'CONFLICT' | 'BAD_REQUEST' | 'PRECONDITION_FAILED' | 'UNAVAILABLE' | 'UNAUTHORIZED' | 'FORBIDDEN' | 'TOO_MANY_REQUESTS';

export interface DomainErrorOptions<C extends string> {
  /** A finer code of the library that threw (LongctxError's INVALID_THETA, DispatchError's WONT_FIT); the status when absent. */
  code?: C;
  cause?: unknown;
  /**
   * Whether `field` is a path of the API's input, which the API hands to forms as a field error
   * (default). A library's own error names its own argument or spec path instead: false.
   */
  fieldIsInput?: boolean;
}

/**
 * The base of every error a library throws for the API to answer: libraries with codes of their own
 * (LongctxError, DispatchError) extend it with `code` their finer code and `status` what the API
 * answers; errors in the API's own terms (`notFound`, `conflict`, `badRequest`, RulerError,
 * LeaseLostError) have `code === status`.
 */
export class DomainError<C extends string = DomainErrorCode> extends Error {
  /** For machines: the status itself, or the finer code of the library that threw. */
  readonly code: C;
  /** Whether `field` is a path of the API's input (see DomainErrorOptions). */
  readonly fieldIsInput: boolean;
  constructor(
    /** What the API answers: libs/api maps it to a transport status. */
    readonly status: DomainErrorCode,
    message: string,
    /** The input field the error is about, when there is one. */
    readonly field?: string,
    options: DomainErrorOptions<C> = {},
  ) {
    super(message, 'cause' in options ? { cause: options.cause } : undefined);
    this.name = 'DomainError';
    // Without a finer code, the code is the status (C is then DomainErrorCode, its default).
    this.code = options.code ?? (status as string as C);
    this.fieldIsInput = options.fieldIsInput ?? true;
  }
}

export const notFound = (what: string, id: string) => new DomainError('NOT_FOUND', `${what} ${id} does not exist`);
export const conflict = (message: string, field?: string) => new DomainError('CONFLICT', message, field);
export const badRequest = (message: string, field?: string) => new DomainError('BAD_REQUEST', message, field);
