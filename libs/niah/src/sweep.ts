/**
 * The sweep driver every eval sweep runs through — NIAH and the suites, on the worker and in the
 * CLI: the cells already finished are skipped (read once from the sink), the rest sent, each result
 * counted (done, failed, mean score) and handed to the sink in batches, with progress as it goes.
 * An abort (cancel, Ctrl-C, a lost lease) stops taking cells; a request it cut short is not a
 * result, and is neither counted nor stored.
 */

/** Where a sweep's results go: the registry's cells, a results file. */
export interface SweepSink<R> {
  /** The cells finished before this sweep (id and score): skipped, and counted in the tallies. */
  finished(): Promise<readonly { id: string; score: number | null }[]>;
  /** Stores a batch of results; `false` when it stored nothing and never will (the sweep lost its right to write). */
  write(results: readonly R[]): Promise<boolean | void>;
}

/** Where a sweep stands. `averageScore` is over the scored cells; the rate counts this sweep's cells only. */
export interface SweepTally {
  done: number;
  total: number;
  failed: number;
  averageScore: number | null;
  cellsPerSecond: number;
  etaSeconds: number | null;
}

/** Takes cells only while held; when it no longer is, the pass drains and `ensure` renews it before the next. */
export interface SweepHold {
  held(): boolean;
  ensure(): Promise<unknown>;
}

export interface SweepOptions<C, R> {
  sink: SweepSink<R>;
  /** Cells in the whole sweep, finished ones included. */
  total: number;
  /** The cells to run, lazily (build nothing for a skipped one): `skip` holds the ids of the finished. */
  cells: (skip: ReadonlySet<string>) => Iterable<C>;
  /** Sends cells as they are pulled, calling `onResult` as each finishes; stops taking cells once `signal` aborts. */
  send: (cells: Iterable<C>, signal: AbortSignal, onResult: (result: R) => void) => Promise<unknown>;
  /** A result's score; null: its request failed (counted, never scored). */
  score: (result: R) => number | null;
  signal?: AbortSignal | undefined;
  hold?: SweepHold | undefined;
  /** Results per write, and the longest a result waits in the batch. Default 200 and 250 ms. */
  batch?: { size?: number; everyMs?: number } | undefined;
  /** Once the finished cells are known, before any request. */
  onStart?: (tally: SweepTally) => void;
  /** As each result is counted. */
  onResult?: (tally: SweepTally, result: R) => void;
  /** After each batch the sink stored. */
  onWritten?: (tally: SweepTally) => Promise<unknown> | void;
}

export interface SweepOutcome extends SweepTally {
  /** The abort signal ended the sweep before its last cell. */
  aborted: boolean;
}

/** Runs a sweep to its end or its abort; every result it counted is written when it returns (or throws). */
export async function runSweep<C, R>(o: SweepOptions<C, R>): Promise<SweepOutcome> {
  const signal = o.signal ?? new AbortController().signal;
  const finished = await o.sink.finished();
  const startDone = finished.length;
  const t0 = Date.now();
  let done = startDone;
  let failed = 0;
  let scoreSum = finished.reduce((a, c) => a + (c.score ?? 0), 0);
  const tally = (): SweepTally => {
    const rate = (done - startDone) / Math.max(0.001, (Date.now() - t0) / 1000);
    return {
      done,
      total: o.total,
      failed,
      averageScore: done - failed > 0 ? scoreSum / (done - failed) : null,
      cellsPerSecond: rate,
      etaSeconds: rate > 0 ? (o.total - done) / rate : null,
    };
  };
  const writer = batchWriter(o.sink, o.batch?.size ?? 200, () => o.onWritten?.(tally()));
  const ticker = setInterval(() => void writer.flush().catch(() => undefined), o.batch?.everyMs ?? 250);
  try {
    o.onStart?.(tally());
    const it = o.cells(new Set(finished.map((c) => c.id)))[Symbol.iterator]();
    let exhausted = false;
    const hold = o.hold;
    function* held() {
      while ((hold?.held() ?? true) && !signal.aborted) {
        const next = it.next();
        if (next.done) {
          exhausted = true;
          return;
        }
        yield next.value;
      }
    }
    const onResult = (r: R) => {
      const score = o.score(r);
      // An aborted request is not a result: it is neither counted nor stored.
      if (signal.aborted && score === null) return;
      done++;
      if (score === null) failed++;
      else scoreSum += score;
      writer.add(r);
      o.onResult?.(tally(), r);
    };
    while (!exhausted && !signal.aborted) {
      await o.send(held(), signal, onResult);
      if (!hold) break;
      if (!exhausted && !signal.aborted) await hold.ensure();
    }
    await writer.flush();
    return { ...tally(), aborted: signal.aborted && !exhausted };
  } catch (e) {
    // What finished before the failure is kept.
    await writer.flush().catch(() => undefined);
    throw e;
  } finally {
    clearInterval(ticker);
  }
}

/** Results in batches to the sink, one write at a time, in the order they came. */
function batchWriter<R>(sink: SweepSink<R>, size: number, onWritten: () => Promise<unknown> | void) {
  let buffer: R[] = [];
  let flushing: Promise<void> | null = null;
  let failure: unknown = null;
  const flush = async (): Promise<void> => {
    while (flushing) await flushing;
    if (failure) throw failure;
    if (buffer.length === 0) return;
    const batch = buffer;
    buffer = [];
    flushing = (async () => {
      if ((await sink.write(batch)) === false) return;
      await Promise.resolve(onWritten()).catch(() => undefined);
    })();
    try {
      await flushing;
    } catch (e) {
      // Kept for the sweep's last flush to throw: a batch the sink gave up on is not silently lost.
      failure ??= e;
      throw e;
    } finally {
      flushing = null;
    }
  };
  return {
    add(r: R) {
      buffer.push(r);
      if (buffer.length >= size) void flush().catch(() => undefined);
    },
    flush,
  };
}
