import { DomainError, notFound } from '@ctxlab/contracts';

/**
 * One move of a row along its state machine, the way every run table moves: read the status, check
 * the edge, then a conditional move (`move(from)`: false when the row was no longer `from`) —
 * retried a few times when a racing move got there first. A move the machine does not allow is
 * refused (PRECONDITION_FAILED), or skipped with null under `ifAllowed`. Returns the status left.
 */
export async function moveAlong<S extends string>(
  what: string,
  id: string,
  to: S,
  step: { read: () => Promise<S | null>; allowed: (from: S, to: S) => boolean; move: (from: S) => Promise<boolean>; ifAllowed?: boolean | undefined },
): Promise<S | null> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const from = await step.read();
    if (from === null) throw notFound(what, id);
    if (!step.allowed(from, to)) {
      if (step.ifAllowed) return null;
      throw new DomainError('PRECONDITION_FAILED', `${what} ${id} is ${from}: it cannot become ${to}`);
    }
    if (await step.move(from)) return from;
  }
  throw new DomainError('CONFLICT', `${what} ${id} kept changing while moving it to ${to}; try again`);
}
