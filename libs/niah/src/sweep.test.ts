import { describe, expect, it } from 'vitest';
import { runSweep, type SweepSink, type SweepTally } from './sweep';

type Result = { id: string; score: number | null };

function memorySink(finished: Result[] = []) {
  const written: Result[][] = [];
  const sink: SweepSink<Result> = { finished: async () => finished, write: async (batch) => void written.push([...batch]) };
  return { sink, written };
}

const send = (scoreOf: (id: string) => number | null) => async (cells: Iterable<string>, signal: AbortSignal, onResult: (r: Result) => void) => {
  for (const id of cells) {
    if (signal.aborted) return;
    await Promise.resolve();
    onResult({ id, score: scoreOf(id) });
  }
};

describe('the sweep driver', () => {
  it('skips the finished cells, counts done, failed and the mean score from them on, and writes every result in batches', async () => {
    const { sink, written } = memorySink([{ id: 'a', score: 100 }]);
    const seen: SweepTally[] = [];
    const out = await runSweep({
      sink,
      total: 4,
      cells: (skip) => ['a', 'b', 'c', 'd'].filter((id) => !skip.has(id)),
      send: send((id) => (id === 'c' ? null : 50)),
      score: (r) => r.score,
      batch: { size: 2 },
      onStart: (t) => seen.push(t),
      onResult: (t) => seen.push(t),
    });
    expect(seen.map((t) => [t.done, t.failed])).toEqual([[1, 0], [2, 0], [3, 1], [4, 1]]);
    expect(out).toMatchObject({ done: 4, total: 4, failed: 1, averageScore: (100 + 50 + 50) / 3, aborted: false });
    expect(written.flat().map((r) => r.id)).toEqual(['b', 'c', 'd']);
    expect(written[0]).toHaveLength(2);
  });

  it('an abort stops taking cells, and a request it cut short is neither counted nor stored', async () => {
    const { sink, written } = memorySink();
    const ctl = new AbortController();
    const out = await runSweep({
      sink,
      total: 3,
      cells: () => ['a', 'b', 'c'],
      send: async (cells, signal, onResult) => {
        for (const id of cells) {
          if (id === 'b') ctl.abort();
          onResult({ id, score: signal.aborted ? null : 100 });
        }
      },
      score: (r) => r.score,
      signal: ctl.signal,
    });
    expect(out).toMatchObject({ done: 1, failed: 0, aborted: true });
    expect(written.flat().map((r) => r.id)).toEqual(['a']);
  });

  it('takes cells only while held: the pass drains, the hold is renewed, and the sweep goes on', async () => {
    const { sink, written } = memorySink();
    let budget = 2;
    let renewals = 0;
    const out = await runSweep({
      sink,
      total: 5,
      cells: () => ['a', 'b', 'c', 'd', 'e'],
      send: send(() => 1),
      score: (r) => r.score,
      hold: { held: () => budget-- > 0, ensure: async () => void (renewals++, (budget = 2)) },
    });
    expect(out.done).toBe(5);
    expect(renewals).toBe(2);
    expect(written.flat()).toHaveLength(5);
  });

  it('a sink that lost its right to write is not reported as written; what was counted before a failure is still written', async () => {
    let progress = 0;
    const out = await runSweep({
      sink: { finished: async () => [], write: async () => false },
      total: 1,
      cells: () => ['a'],
      send: send(() => 1),
      score: (r) => r.score,
      onWritten: () => void progress++,
    });
    expect(out.done).toBe(1);
    expect(progress).toBe(0);

    const { sink, written } = memorySink();
    await expect(
      runSweep({
        sink,
        total: 2,
        cells: () => ['a', 'b'],
        send: async (cells, _signal, onResult) => {
          for (const id of cells) {
            if (id === 'b') throw new Error('endpoint gone');
            onResult({ id, score: 1 });
          }
        },
        score: (r) => r.score,
      }),
    ).rejects.toThrow('endpoint gone');
    expect(written.flat().map((r) => r.id)).toEqual(['a']);
  });
});
