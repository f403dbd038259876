/**
 * What the sweep suites' integration tests share: real worker processes (killed at the end of each
 * test), OpenAI-compatible test servers on real sockets, and the requests they received by prompt.
 */
import type { Repositories } from '@ctxlab/db';
import { startOpenAITestServer, type BehaviourFn, type OpenAITestServer, type TestServerBehaviour } from '@ctxlab/niah/testing';
import type { ChildProcess } from 'node:child_process';
import { jobFinished, startWorker, stopWorker } from './worker';

export function sweepHarness(prefix: string, repos: Repositories, serverDefaults: Parameters<typeof startOpenAITestServer>[0] = {}) {
  const workers: ChildProcess[] = [];
  const outputs: (() => string)[] = [];
  const servers: OpenAITestServer[] = [];
  return {
    worker(env: Record<string, string> = {}) {
      const w = startWorker(prefix, env);
      workers.push(w);
      outputs.push(w.output);
      return w;
    },
    /** The job once it ended; when it does not, the failure carries its events and the workers' output. */
    finished: (jobId: string, timeoutMs = 120_000) =>
      jobFinished(repos, jobId, timeoutMs).catch(async (e: Error) => {
        const events = (await repos.jobs.events(jobId)).map((x) => `${x.type} ${x.toStatus ?? ''} ${x.message}`);
        throw new Error(`${e.message}\nevents:\n${events.join('\n')}\nworkers:\n${outputs.map((o) => o()).join('\n---\n')}`);
      }),
    async server(opts: Parameters<typeof startOpenAITestServer>[0]) {
      const s = await startOpenAITestServer({ ...serverDefaults, ...opts });
      servers.push(s);
      return s;
    },
    /** Stops the workers started so far (after each test: killed). */
    async stopWorkers(signal: NodeJS.Signals = 'SIGKILL') {
      await Promise.all(workers.splice(0).map((w) => stopWorker(w, signal)));
      outputs.length = 0;
    },
    /** After all: the servers closed. */
    closeServers: () => Promise.all(servers.map((s) => s.close())),
  };
}

/** The chat requests a server received from index `from` on, by prompt. */
export function requestsSince(server: OpenAITestServer, from: number) {
  const gen = server.requests.slice(from).filter((r) => r.path === '/v1/chat/completions');
  const byPrompt = new Map<string, number>();
  for (const r of gen) {
    const key = JSON.stringify((r.body as { messages?: unknown }).messages);
    byPrompt.set(key, (byPrompt.get(key) ?? 0) + 1);
  }
  return { total: gen.length, prompts: byPrompt.size, sentTwiceOrMore: [...byPrompt.values()].filter((n) => n > 1).length, byPrompt };
}

/** A request's prompt, as `requestsSince` keys it: the chat messages, or a completion's prompt (text or ids). */
export const promptOf = (body: unknown) => JSON.stringify((body as { messages?: unknown; prompt?: unknown }).messages ?? (body as { prompt?: unknown }).prompt);

/**
 * A server behaviour that fails the first request of every `every`-th prompt — with a 500, a reset
 * connection, no answer at all, in turn — and answers the rest; `always` may fail a prompt on
 * every request. `injected()` says how many first requests it failed.
 */
export function faultsOnFirstRequest(opts: { every?: number; always?: (prompt: string) => TestServerBehaviour | undefined } = {}) {
  const faults: TestServerBehaviour[] = [{ kind: 'status', status: 500, message: 'CUDA error: an illegal memory access' }, { kind: 'reset' }, { kind: 'hang' }];
  const seen = new Set<string>();
  let n = 0;
  const behaviour: BehaviourFn = ({ body }) => {
    const key = promptOf(body);
    const always = opts.always?.(key);
    if (always) return always;
    if (seen.has(key)) return { kind: 'answer' };
    seen.add(key);
    return (seen.size - 1) % (opts.every ?? 1) === 0 ? faults[n++ % faults.length]! : { kind: 'answer' };
  };
  return { behaviour, injected: () => n };
}
