import { performance } from 'node:perf_hooks';

/**
 * Where a sweep's time goes, kept as it runs (a few additions per cell, no per-cell log) and written
 * with its progress, so the portal, the CLI and the benchmark read the same figures:
 * - queue: the job's wait on the queue, from enqueue to a worker taking it;
 * - start-up: from then to the first cell pulled (lease, status, endpoint check, corpus);
 * - prompt: building prompts on the worker's thread (the cell generator's own time);
 * - request: HTTP round trips to the model server, retries included — they overlap one another
 *   (`concurrency` at once) and the rest, so `requestMs / concurrency` is how long the run's
 *   request slots were occupied;
 * - scoring: scoring answers on the worker's thread;
 * - writes: PostgreSQL batches (cell inserts with the run's and job's progress, in one lease-fenced
 *   transaction), one at a time, overlapping the requests;
 * - cpu and event loop: the worker process's CPU time and its event loop's busy share since the
 *   sweep began — a loop near 100 % busy is the bottleneck, whatever the stages say. Both are the
 *   process's, so sweeps running side by side on one worker count one another's work too.
 * Epoch times let a reader place the stages on its own clock (same host or synced clocks).
 */
export interface SweepStages {
  /** Epoch ms the job was put on the queue and taken from it, when the queue says. */
  queuedAt: number | null;
  pickedUpAt: number | null;
  /** Epoch ms the sweep began (the processor's start-up done), pulled its first cell, and ended its last write. */
  sweepStartedAt: number;
  firstCellAt: number | null;
  lastWriteAt: number | null;
  cells: number;
  concurrency: number;
  promptMs: number;
  requests: number;
  requestMs: number;
  scoreMs: number;
  writes: number;
  writeMs: number;
  /** Filled in by `snapshot`: CPU ms of the process, and its event loop's busy share (0–1), since the sweep began. */
  cpuMs: number;
  eventLoopBusy: number;
}

/** A sweep's stage clock: accumulators, and wrappers that time what they run. */
export class StageClock {
  readonly s: SweepStages;
  private readonly cpu0 = process.cpuUsage();
  private readonly loop0 = performance.eventLoopUtilization();

  constructor(at: { queuedAt?: number | undefined; pickedUpAt?: number | undefined }) {
    this.s = {
      queuedAt: at.queuedAt ?? null,
      pickedUpAt: at.pickedUpAt ?? null,
      sweepStartedAt: Date.now(),
      firstCellAt: null,
      lastWriteAt: null,
      cells: 0,
      concurrency: 0,
      promptMs: 0,
      requests: 0,
      requestMs: 0,
      scoreMs: 0,
      writes: 0,
      writeMs: 0,
      cpuMs: 0,
      eventLoopBusy: 0,
    };
  }

  /** The cells of `it`, the time each takes to make counted as prompt building. */
  *prompts<C>(it: Iterable<C>): Generator<C> {
    const iter = it[Symbol.iterator]();
    for (;;) {
      const t0 = performance.now();
      const next = iter.next();
      this.s.promptMs += performance.now() - t0;
      this.s.firstCellAt ??= Date.now();
      if (next.done) return;
      yield next.value;
    }
  }

  /** A request's elapsed time. */
  request(ms: number) {
    this.s.requests++;
    this.s.requestMs += ms;
  }

  score(ms: number) {
    this.s.scoreMs += ms;
  }

  /** A batch of `cells` written in `ms`. */
  write(cells: number, ms: number) {
    this.s.writes++;
    this.s.writeMs += ms;
    this.s.cells += cells;
    this.s.lastWriteAt = Date.now();
  }

  /** The figures, to a tenth of a millisecond (JSON for the job's progress). */
  snapshot(): SweepStages {
    const r = (x: number) => Math.round(x * 10) / 10;
    const cpu = process.cpuUsage(this.cpu0);
    return {
      ...this.s,
      promptMs: r(this.s.promptMs),
      requestMs: r(this.s.requestMs),
      scoreMs: r(this.s.scoreMs),
      writeMs: r(this.s.writeMs),
      cpuMs: r((cpu.user + cpu.system) / 1000),
      eventLoopBusy: Math.round(performance.eventLoopUtilization(this.loop0).utilization * 1000) / 1000,
    };
  }
}
