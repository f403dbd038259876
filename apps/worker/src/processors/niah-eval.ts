/**
 * Runs one NIAH sweep against the eval run's endpoint. PostgreSQL is the truth: each finished cell
 * is written as it completes (unique by run, length, depth and sample), so a restarted worker
 * resumes without redoing finished cells, and no cell is ever written twice. A failed request is
 * recorded with its error and never scored.
 */
import type { NiahCellResult } from '@ctxlab/contracts';
import type { Repositories } from '@ctxlab/db';
import { canStart, canTransition } from '@ctxlab/jobs';
import { cellId, generateNiahCells, loadCorpusFromTexts, type NiahContext, OpenAIClient, planNiahCells, resolveNiahSpec, runNiahCells } from '@ctxlab/niah';
import { DEFAULT_CORPORA, loadNiahContext } from '@ctxlab/niah/node';
import { getTokenizer } from '@ctxlab/tokenizers';
import { jobCatalog } from '@ctxlab/queue';
import type { Job } from 'bullmq';
import { decryptSecret, sharedGuardedFetch } from '@ctxlab/contracts/security';
import { localCheckJob } from './local-check';

export interface NiahProcessorDeps {
  repos: Repositories;
  workerName: string;
  /** Registers a cancel listener for a job; returns the function that removes it. */
  onCancel: (jobId: string, fn: () => void) => () => void;
  /** Per-request timeout and attempts against the endpoint. */
  requestTimeoutMs: number;
  requestAttempts: number;
  /** How often the run re-reads its job's status (a cancel that missed pub/sub still lands). */
  statusPollMs?: number;
  /** Decrypts endpoint API keys (CTXLAB_SECRET_KEY). */
  secretKey?: Buffer | null;
  /** Internal hosts endpoints may point at, besides the registry's allow-list (CTXLAB_OUTBOUND_ALLOW). */
  outboundAllow?: string[];
}

const contexts = new Map<string, NiahContext>();
/** The shipped corpora from their packages; any other name is a corpus imported into the registry. */
async function contextFor(repos: Repositories, spec: { corpus: string; tokenizer: string }): Promise<NiahContext> {
  const builtin = (Object.values(DEFAULT_CORPORA) as string[]).includes(spec.corpus);
  const dataset = builtin ? null : await repos.datasets.getByName(spec.corpus);
  if (!builtin && !dataset) throw new Error(`corpus ${spec.corpus} is neither a shipped corpus nor an imported dataset`);
  const key = `${spec.corpus}|${dataset?.digest ?? ''}|${spec.tokenizer}`;
  let c = contexts.get(key);
  if (!c) {
    c = dataset
      ? { corpus: loadCorpusFromTexts(dataset.name, await repos.datasets.documents(dataset.id), { language: dataset.language }), tokenizer: getTokenizer(spec.tokenizer) }
      : loadNiahContext(spec as never);
    contexts.set(key, c);
  }
  return c;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Writes cells in batches; keeps them and retries with backoff while PostgreSQL is unreachable. */
class CellWriter {
  private buffer: { evalRunId: string; r: NiahCellResult; needleToken: number | null }[] = [];
  private flushing: Promise<void> | null = null;
  constructor(
    private readonly repos: Repositories,
    private readonly onFlushed: (n: number) => Promise<void>,
  ) {}

  add(evalRunId: string, r: NiahCellResult, needleToken: number | null) {
    this.buffer.push({ evalRunId, r, needleToken });
    if (this.buffer.length >= 200) void this.flush();
  }

  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.buffer.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    this.flushing = (async () => {
      for (let attempt = 0; ; attempt++) {
        try {
          await this.repos.db.evalCell.createMany({
            skipDuplicates: true,
            data: batch.map(({ evalRunId, r, needleToken }) => ({
              evalRunId,
              contextLength: r.length,
              depth: r.depth,
              sample: r.sample,
              promptTokens: r.promptTokens,
              needleToken,
              needle: r.needle,
              expected: r.expected.join('\n'),
              response: r.response,
              score: r.score,
              latencyMs: r.latencyMs === null ? null : Math.round(r.latencyMs),
              error: r.error,
            })),
          });
          break;
        } catch (e) {
          if (attempt >= 60) throw e;
          await sleep(Math.min(250 * 2 ** attempt, 5000));
        }
      }
      await this.onFlushed(batch.length).catch(() => undefined);
    })();
    try {
      await this.flushing;
    } finally {
      this.flushing = null;
    }
  }
}

export function niahEvalProcessor(deps: NiahProcessorDeps) {
  const { repos } = deps;
  return async (bullJob: Job) => {
    const { jobId, evalRunId } = jobCatalog['niah-eval'].parse(bullJob.data);
    const job = await repos.db.job.findUnique({ where: { id: jobId } });
    // The API rolls back a run whose job could not be queued; a message for it is stale.
    if (!job) return { skipped: `job ${jobId} does not exist` };
    if (!canStart(job.status)) return { skipped: `job ${jobId} is ${job.status}` };
    const run = await repos.db.evalRun.findUnique({ where: { id: evalRunId }, include: { endpoint: true } });
    if (run && run.kind !== 'niah') {
      // Local checks (perplexity, round trips) of a lab model run here, on onnxruntime-node.
      let cancelled = false;
      const unsubscribe = deps.onCancel(jobId, () => (cancelled = true));
      try {
        return await localCheckJob(repos, jobId, run, deps.workerName, () => cancelled);
      } finally {
        unsubscribe();
      }
    }
    if (!run?.endpoint) {
      await repos.jobs.transition(jobId, 'failed', 'the eval run or its endpoint no longer exists', canTransition, { error: 'eval run or endpoint missing' });
      return { failed: 'missing run or endpoint' };
    }
    const resumed = job.status === 'running';
    await repos.jobs.transition(
      jobId,
      'running',
      resumed ? `resumed by ${deps.workerName} (the previous worker stopped mid-run)` : `started by ${deps.workerName}`,
      canTransition,
    );
    await repos.db.evalRun.update({ where: { id: run.id }, data: { status: 'running', startedAt: run.startedAt ?? new Date(), finishedAt: null } });

    const config = run.config as { spec: unknown; concurrency?: number; mode?: 'chat' | 'completion-ids' };
    const spec = resolveNiahSpec(config.spec as never);
    const keys = planNiahCells(spec);
    // Failed cells are redone; succeeded ones are skipped. One query of the keys, not of the results.
    await repos.db.evalCell.deleteMany({ where: { evalRunId: run.id, error: { not: null } } });
    const doneRows = await repos.db.evalCell.findMany({ where: { evalRunId: run.id }, select: { contextLength: true, depth: true, sample: true, score: true } });
    const done = new Set(doneRows.map((c) => cellId(c.contextLength, c.depth, c.sample)));
    let doneCount = doneRows.length;
    let scoreSum = doneRows.reduce((a, c) => a + (c.score ?? 0), 0);
    let failedCount = 0;
    let lastError: string | null = null;
    const total = keys.length;
    const t0 = Date.now();
    const startDone = doneCount;

    const ctl = new AbortController();
    let cancelled = false;
    const cancel = () => {
      cancelled = true;
      ctl.abort(new Error('cancelled'));
    };
    const unsubscribe = deps.onCancel(jobId, cancel);
    const poll = setInterval(() => {
      repos.db.job
        .findUnique({ where: { id: jobId }, select: { status: true } })
        .then((j) => {
          if (j?.status === 'cancelled') cancel();
        })
        .catch(() => undefined);
    }, deps.statusPollMs ?? 2000);

    const progress = async () => {
      const rate = (doneCount - startDone) / Math.max(0.001, (Date.now() - t0) / 1000);
      const p = {
        done: doneCount,
        total,
        failed: failedCount,
        averageScore: doneCount - failedCount > 0 ? scoreSum / (doneCount - failedCount) : null,
        cellsPerSecond: rate,
        etaSeconds: rate > 0 ? (total - doneCount) / rate : null,
      };
      await Promise.all([
        repos.db.evalRun.update({ where: { id: run.id }, data: { cellsDone: doneCount, summary: p } }),
        repos.jobs.setProgress(jobId, p),
        bullJob.updateProgress(p).catch(() => undefined),
      ]);
    };
    const writer = new CellWriter(repos, () => progress());
    const ticker = setInterval(() => void writer.flush().catch(() => undefined), 250);

    try {
      // Endpoint URLs are user input: internal addresses are refused at every hop and at connect
      // time unless allow-listed; the stored API key is decrypted only here.
      const allowed = await repos.db.allowedHost.findMany({ select: { host: true } });
      const encryptedKey = await repos.endpoints.encryptedApiKey(run.endpoint.id);
      if (encryptedKey && !deps.secretKey) throw new Error(`endpoint ${run.endpoint.name} has an API key but CTXLAB_SECRET_KEY is not set on worker ${deps.workerName}`);
      const client = new OpenAIClient({
        fetch: sharedGuardedFetch([...(deps.outboundAllow ?? []), ...allowed.map((h) => h.host)]),
        ...(encryptedKey && deps.secretKey ? { apiKey: decryptSecret(encryptedKey, deps.secretKey) } : {}),
        baseUrl: run.endpoint.url,
        model: run.endpoint.servedModelName,
        concurrency: config.concurrency ?? 4,
        timeoutMs: deps.requestTimeoutMs,
        maxAttempts: deps.requestAttempts,
      });
      const models = await client.listModels(ctl.signal);
      if (!models.ok && !cancelled) {
        throw new Error(`endpoint ${run.endpoint.name} (${run.endpoint.url}) is unreachable: ${models.error}`);
      }
      const ctx = await contextFor(repos, spec);
      await runNiahCells(generateNiahCells(spec, ctx, { skip: done }), client, {
        mode: config.mode ?? 'chat',
        signal: ctl.signal,
        onResult: (r, cell) => {
          // An aborted request (cancel) is not a result: it is neither stored nor scored.
          if (cancelled && r.error) return;
          doneCount++;
          if (r.score === null) {
            failedCount++;
            lastError = r.error;
          } else scoreSum += r.score;
          writer.add(run.id, r, cell.needleTokenPositions[0] ?? null);
        },
      });
      await writer.flush();
      await progress();
      if (cancelled) return { cancelled: true, done: doneCount, total };
      const failedRows = await repos.db.evalCell.count({ where: { evalRunId: run.id, error: { not: null } } });
      const scored = await repos.db.evalCell.aggregate({ where: { evalRunId: run.id, error: null }, _avg: { score: true }, _count: true });
      const summary = { done: total, total, failed: failedRows, averageScore: scored._avg.score, scoredCells: scored._count };
      if (failedRows > 0) {
        const reason = `${failedRows} of ${total} cells failed after ${deps.requestAttempts} attempts each (last error: ${lastError ?? 'see the cells'}); finished cells are kept — retry the job to redo the failed ones`;
        await repos.db.evalRun.update({ where: { id: run.id }, data: { status: 'failed', finishedAt: new Date(), summary } });
        await repos.jobs.transition(jobId, 'failed', reason, canTransition, { error: reason, result: summary });
        return summary;
      }
      await repos.db.evalRun.update({ where: { id: run.id }, data: { status: 'succeeded', finishedAt: new Date(), summary } });
      await repos.jobs.transition(jobId, 'succeeded', `all ${total} cells done, average score ${scored._avg.score?.toFixed(1)}`, canTransition, { result: summary });
      return summary;
    } catch (e) {
      await writer.flush().catch(() => undefined);
      if (cancelled) return { cancelled: true };
      const message = (e as Error).message;
      const attempts = bullJob.opts.attempts ?? 1;
      const final = bullJob.attemptsMade + 1 >= attempts;
      const current = await repos.jobs.get(jobId);
      if (current.status === 'running') {
        if (final) {
          await repos.db.evalRun.update({ where: { id: run.id }, data: { status: 'failed', finishedAt: new Date() } });
          await repos.jobs.transition(jobId, 'failed', `${message} (gave up after ${attempts} attempts)`, canTransition, { error: message });
        } else {
          await repos.jobs.transition(jobId, 'retrying', `${message}; attempt ${bullJob.attemptsMade + 2} of ${attempts} follows with backoff`, canTransition);
        }
      }
      throw e;
    } finally {
      clearInterval(ticker);
      clearInterval(poll);
      unsubscribe();
    }
  };
}
