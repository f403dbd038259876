/**
 * Errors domain code throws. Each carries a code the API maps to a transport status, and a
 * message a person can act on ("recipe stage 3: …"). Nothing below libs/api knows about HTTP.
 */
export type DomainErrorCode = 'NOT_FOUND' | 'CONFLICT' | 'BAD_REQUEST' | 'PRECONDITION_FAILED' | 'UNAVAILABLE' | 'UNAUTHORIZED' | 'FORBIDDEN' | 'TOO_MANY_REQUESTS';

export class DomainError extends Error {
  constructor(
    public readonly code: DomainErrorCode,
    message: string,
    /** The input field the error is about, when there is one. */
    public readonly field?: string,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const notFound = (what: string, id: string) => new DomainError('NOT_FOUND', `${what} ${id} does not exist`);
export const conflict = (message: string, field?: string) => new DomainError('CONFLICT', message, field);
export const badRequest = (message: string, field?: string) => new DomainError('BAD_REQUEST', message, field);
