import { DomainError } from '@ctxlab/contracts';

/** A RULER input a user can fix (bad length, missing dataset, malformed import): always a bad request. */
export class RulerError extends DomainError {
  constructor(message: string, field?: string) {
    super('BAD_REQUEST', message, field);
    this.name = 'RulerError';
  }
}
