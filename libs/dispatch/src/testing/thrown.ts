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

/** The DispatchError `p` rejects with; resolving, or any other error, fails the calling test. */
export async function rejection(p: Promise<unknown>): Promise<DispatchError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof DispatchError) return e;
    throw e;
  }
  throw new Error('expected a DispatchError');
}
