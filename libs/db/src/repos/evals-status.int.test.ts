import { EVAL_RUN_TRANSITIONS, type EvalStatus } from '@ctxlab/contracts';
import { describe, expect, it } from 'vitest';
import { testRepos } from '@ctxlab/testing/db';

const repos = testRepos();
/** A job and its pending run, as every eval start makes them. */
const newRun = async (name: string) =>
  repos.jobs.createWithRun(
    { kind: 'niah-eval', spec: { test: name }, idempotencyKey: `eval-status:${name}:${Date.now()}:${Math.random()}` },
    { name, kind: 'niah', modelId: null, config: { spec: {} }, cellsTotal: 1 },
  );
const history = async (id: string) => (await repos.evals.events(id)).map((e) => `${e.fromStatus ?? '·'}→${e.toStatus}: ${e.message}`);

describe('eval-run state machine', () => {
  it('has an entry for every status, and an ended run only goes back to pending (a retry)', () => {
    const all: EvalStatus[] = ['pending', 'running', 'succeeded', 'failed', 'cancelled'];
    expect(Object.keys(EVAL_RUN_TRANSITIONS).sort()).toEqual([...all].sort());
    for (const s of ['succeeded', 'failed', 'cancelled'] as const) expect(EVAL_RUN_TRANSITIONS[s].every((to) => to === 'pending')).toBe(true);
  });

  it('records every move with its reason, in order, from creation to the end', async () => {
    const { evalRun } = await newRun('history');
    await repos.evals.markRunning(evalRun.id, null);
    await repos.evals.markRunning(evalRun.id, new Date());
    await repos.evals.markEnded(evalRun.id, 'succeeded', { done: 1, total: 1 });
    expect(await history(evalRun.id)).toEqual([
      '·→pending: created with its niah-eval job',
      'pending→running: started with its job',
      'running→running: resumed with its job',
      'running→succeeded: all cells done',
    ]);
    const run = await repos.evals.get(evalRun.id);
    expect(run.status).toBe('succeeded');
    expect(run.finishedAt).not.toBeNull();
    // Only the events after the last one seen.
    const all = await repos.evals.events(evalRun.id);
    expect((await repos.evals.events(evalRun.id, all[1]!.id)).map((e) => e.id)).toEqual(all.slice(2).map((e) => e.id));
  });

  it('refuses a move the machine does not allow, and changes nothing', async () => {
    const { evalRun } = await newRun('refused');
    await expect(repos.evals.transition(evalRun.id, 'succeeded', 'skipping running')).rejects.toMatchObject({ code: 'PRECONDITION_FAILED', message: `eval run ${evalRun.id} is pending: it cannot become succeeded` });
    await repos.evals.markRunning(evalRun.id, null);
    await repos.evals.markEnded(evalRun.id, 'failed');
    await expect(repos.evals.markRunning(evalRun.id, null)).rejects.toMatchObject({ code: 'PRECONDITION_FAILED' });
    expect((await repos.evals.get(evalRun.id)).status).toBe('failed');
    expect(await history(evalRun.id)).toHaveLength(3);
    await expect(repos.evals.transition('no-such-run', 'running', 'x')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('a run a person cancelled stays cancelled when its worker ends it', async () => {
    const { job, evalRun } = await newRun('cancel-wins');
    await repos.evals.markRunning(evalRun.id, null);
    await repos.evals.cancelOfJob(job.id, 'ada');
    await repos.evals.markEnded(evalRun.id, 'succeeded', { done: 1 });
    expect((await repos.evals.get(evalRun.id)).status).toBe('cancelled');
    expect((await history(evalRun.id)).at(-1)).toBe('running→cancelled: its job was cancelled by ada');
  });

  it('of two racing moves from the same status exactly one wins', async () => {
    const { evalRun } = await newRun('race');
    await repos.evals.markRunning(evalRun.id, null);
    const results = await Promise.allSettled([
      repos.evals.transition(evalRun.id, 'cancelled', 'cancelled'),
      repos.evals.transition(evalRun.id, 'succeeded', 'finished'),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const ends = (await repos.evals.events(evalRun.id)).filter((e) => e.fromStatus === 'running');
    expect(ends).toHaveLength(1);
    expect((await repos.evals.get(evalRun.id)).status).toBe(ends[0]!.toStatus);
  });

  it('a retry queues the run again with its job; a run its job left running ends first, so its history says so', async () => {
    const { job, evalRun } = await newRun('retry');
    await repos.evals.markRunning(evalRun.id, null);
    await repos.jobs.transition(job.id, 'running', 'started', () => true);
    await repos.jobs.transition(job.id, 'failed', 'the worker died', () => true);
    await repos.jobs.requeueWithRun(job.id, 'failed', evalRun.id, 'retried by ada');
    expect((await repos.evals.get(evalRun.id)).status).toBe('pending');
    expect((await history(evalRun.id)).slice(-2)).toEqual(['running→failed: its job ended without it', 'failed→pending: retried by ada']);
  });
});
