import { DispatchError } from '../errors';

/** The DispatchError `f` throws; any other outcome fails the calling test. */
export function thrown(f: () => unknown): DispatchError {
  try {
    f();
  } catch (e) {
    if (e instanceof DispatchError) return e;
    throw e;
  }
  throw new Error('expected a DispatchError');
}
