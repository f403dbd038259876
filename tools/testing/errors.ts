/** A class of error a test expects (its constructor, whatever its arguments). */
type ErrorClass<E> = abstract new (...args: never[]) => E;

/** The error of class `type` that `f` throws; returning, or any other error, fails the calling test. */
export function thrownBy<E>(type: ErrorClass<E>, f: () => unknown): E {
  try {
    f();
  } catch (e) {
    if (e instanceof type) return e;
    throw e;
  }
  throw new Error(`expected a ${type.name}`);
}

/** The error of class `type` that `p` rejects with; resolving, or any other error, fails the calling test. */
export async function rejectionBy<E>(type: ErrorClass<E>, p: Promise<unknown>): Promise<E> {
  try {
    await p;
  } catch (e) {
    if (e instanceof type) return e;
    throw e;
  }
  throw new Error(`expected a ${type.name}`);
}
