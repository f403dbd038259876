import { rejectionBy, thrownBy } from '@ctxlab/testing/errors';
import { DispatchError } from '../errors';

/** The DispatchError `f` throws; any other outcome fails the calling test. */
export const thrown = (f: () => unknown): DispatchError => thrownBy(DispatchError, f);

/** The DispatchError `p` rejects with; resolving, or any other error, fails the calling test. */
export const rejection = (p: Promise<unknown>): Promise<DispatchError> => rejectionBy(DispatchError, p);
