/**
 * Drives a recipe run: stage after stage, a training job from the previous stage's model, then the
 * stage's gates as eval jobs, compared with the recipe's thresholds. Every step is written to
 * PostgreSQL before the next one starts, and every job it starts has a request key derived from
 * the run, the stage and the attempt — so a worker that takes a dead worker's run over re-attaches
 * to the jobs already started instead of starting them twice.
 */
import { readEvalRunSummary, recipeSpecSchema, type GateResult, type JobPriority, type RecipeSpec } from '@ctxlab/contracts';
import type { RecipeRunRecord, Repositories } from '@ctxlab/db';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { JobsDeps } from '../deps';
import { cancelJob } from '../eval-runs';
import { cancelStageJobs } from './producer';
import { serveModel, startGpuJob } from '../gpu/producer';
import { leased, type JobLease } from '../lease';
import { startLocalCheck } from '../local-check/producer';
import { startNiahEval } from '../niah-eval/producer';
import { canStart, canTransition, isFinal } from '../statuses';
import { startSuiteEval } from '../suite-eval/producer';
import type { SuiteLimits } from '../suites';
import type { RecipeRunPayload } from './payload';
import { gatePasses, gateWords, pathSlug, pendingGate, stageDatasets, stageGates, stageLabel, stageModelName, stageOutput, stageTrainSpec } from './plan';

export interface RecipeRunProcessorDeps {
  repos: Repositories;
  /** Starts the stage's jobs (training, serving, gates) as the API would. */
  jobs: JobsDeps;
  workerName: string;
  leaseMs: number;
  /** Where file:// stage models go when the run names no output root: recipe-runs/<run> under it. */
  artifactsRoot: string;
  onCancel: (jobId: string, fn: () => void) => () => void;
  /** How often the jobs a run waits for are read. Default 1 s. */
  pollMs?: number;
  /** How long a gate's serve job may take to answer. Default 30 min. */
  serveTimeoutMs?: number;
}

type Outcome = { kind: 'passed' } | { kind: 'stopped'; reason: string } | { kind: 'ended'; why: string };

/** The recipe-run queue's processor; a run is driven by one worker at a time, under its job's lease. */
export function recipeRunProcessor(deps: RecipeRunProcessorDeps) {
  return leased(deps.repos, deps.workerName, deps.leaseMs, (p: RecipeRunPayload) => p.jobId, (p, lease) => driveRun(deps, p.jobId, lease));
}

async function driveRun(deps: RecipeRunProcessorDeps, jobId: string, lease: JobLease | null) {
  const { repos } = deps;
  const job = await repos.jobs.find(jobId);
  const first = await repos.recipeRuns.ofJob(jobId);
  if (!job || !first || !lease) return { skipped: `job ${jobId} has no recipe run` };
  if (!canStart(job.status)) return { skipped: `job ${jobId} is ${job.status}` };
  if (first.status !== 'queued' && first.status !== 'running') return { skipped: `recipe run ${first.name} is ${first.status}` };
  const takeover = first.status === 'running';
  await repos.recipeRuns.transition(first.id, 'running', takeover ? `taken over by ${deps.workerName} (its worker stopped)` : `started by ${deps.workerName}`, {
    patch: first.startedAt ? {} : { startedAt: new Date() },
    stageIndex: first.stageIndex,
  });
  await repos.jobs.transition(jobId, 'running', `driving recipe run ${first.name} on ${deps.workerName}`, canTransition);
  let cancelled = false;
  const unsubscribe = deps.onCancel(jobId, () => (cancelled = true));
  const ctx: StageCtx = { deps, lease, stop: () => cancelled || !lease.held() };
  try {
    for (;;) {
      if (!(await lease.ensure())) return { leftTo: lease.lostTo };
      const run = await repos.recipeRuns.get(first.id);
      if (run.status !== 'running') return { ended: run.status };
      const spec = recipeSpecSchema.parse(run.recipe.spec);
      const k = run.stageIndex;
      if (k >= spec.stages.length) {
        const models = run.stages.map((s) => s.model?.name).filter(Boolean).join(' → ');
        await repos.recipeRuns.transition(run.id, 'succeeded', `all ${spec.stages.length} stages passed: ${models}`, { patch: { finishedAt: new Date() } });
        await repos.jobs.transition(jobId, 'succeeded', `recipe run ${run.name} finished: ${models}`, canTransition, { result: { runId: run.id, models: run.stages.map((s) => s.modelId) } });
        return { succeeded: run.id };
      }
      const outcome = await driveStage(ctx, run, spec, k);
      if (outcome.kind === 'ended') {
        // The orchestrating job itself was cancelled (jobs.cancel): the run goes with it, and so does what its stage runs.
        if (outcome.why === 'running' || (await repos.jobs.get(jobId)).status === 'cancelled') {
          if (await repos.recipeRuns.transition(run.id, 'cancelled', 'its job was cancelled', { patch: { reason: 'its job was cancelled', finishedAt: new Date() }, ifAllowed: true, stageIndex: k })) {
            await cancelStageJobs(deps.jobs, await repos.recipeRuns.get(run.id), 'its recipe run (cancelled)');
          }
        }
        return { ended: outcome.why };
      }
      if (outcome.kind === 'stopped') {
        const moved = await repos.recipeRuns.transition(run.id, 'stopped', outcome.reason, { patch: { reason: outcome.reason }, ifAllowed: true, stageIndex: k });
        if (moved) await repos.jobs.transition(jobId, 'failed', `recipe run ${run.name} stopped: ${outcome.reason}`, canTransition, { error: outcome.reason });
        return { stopped: outcome.reason };
      }
      await repos.recipeRuns.setStageIndex(run.id, k + 1);
      await repos.recipeRuns.note(run.id, 'stage', `${stageLabel(k, spec.stages[k]!)} passed`, k);
    }
  } finally {
    unsubscribe();
  }
}

interface StageCtx {
  deps: RecipeRunProcessorDeps;
  lease: JobLease;
  /** True once the run was cancelled or this worker lost it: stop waiting, start nothing. */
  stop: () => boolean;
}

/** Waits until the job has ended; null when the run was cancelled or taken over meanwhile. */
async function waitJob(ctx: StageCtx, jobId: string) {
  for (;;) {
    if (ctx.stop()) return null;
    const j = await ctx.deps.repos.jobs.get(jobId);
    if (isFinal(j.status)) return j;
    await new Promise((r) => setTimeout(r, ctx.deps.pollMs ?? 1000));
  }
}

/** Why the loop ended early: the run was cancelled (or is no longer running), or this worker lost it. */
async function endedWhy(ctx: StageCtx, runId: string): Promise<Outcome> {
  const run = await ctx.deps.repos.recipeRuns.get(runId);
  return { kind: 'ended', why: run.status !== 'running' ? run.status : ctx.lease.held() ? 'running' : 'lease lost' };
}

async function driveStage(ctx: StageCtx, run: RecipeRunRecord, spec: RecipeSpec, k: number): Promise<Outcome> {
  const { repos } = ctx.deps;
  const stage = run.stages[k]!;
  const st = spec.stages[k]!;
  const label = stageLabel(k, st);
  if (stage.status === 'passed') return { kind: 'passed' };

  // 1. Training: from the previous stage's model (or the base, or the stage's initFrom).
  let modelId = stage.modelId;
  if (!modelId) {
    let trainJobId = stage.trainJobId;
    if (!trainJobId) {
      const from = st.initFrom ? await repos.models.getByName(st.initFrom) : k === 0 ? await repos.models.get(run.baseModelId) : await repos.models.get(run.stages[k - 1]!.modelId!);
      if (!from) return { kind: 'stopped', reason: `${label}: initFrom names model ${st.initFrom}, which does not exist` };
      const root = run.outputRoot ?? pathToFileURL(join(ctx.deps.artifactsRoot, 'recipe-runs', pathSlug(run.name))).href;
      const datasets = await stageDatasets(repos, run.recipeId, spec, k);
      const name = stageModelName(run.name, st, stage.attempt);
      let started;
      try {
        const trainSpec = stageTrainSpec(spec, k, { from, datasets, output: stageOutput(root, st, stage.attempt), device: run.device === 'cuda' ? 'cuda' : 'cpu' });
        started = await startGpuJob(ctx.deps.jobs, {
          spec: trainSpec,
          executor: run.executor === 'kubernetes' ? 'kubernetes' : 'local',
          output: {
            kind: 'model', name, parentModelId: from.id, lineage: 'context-extension', ropeTheta: st.ropeTheta, maxPositionEmbeddings: st.seqLength,
            note: `recipe ${run.recipe.name} v${run.recipe.version}, ${label}, run ${run.name}${datasets.length ? `, data ${datasets.join(', ')}` : ''}`, tags: ['recipe-run'],
          },
          requestKey: `recipe-run:${run.id}:stage:${k}:attempt:${stage.attempt}`,
          ...(await runScheduling(repos, run.jobId)),
        }, run.requestedBy);
      } catch (e) {
        return { kind: 'stopped', reason: `${label}: the training job could not start: ${(e as Error).message}` };
      }
      trainJobId = started.job.id;
      await repos.recipeRuns.updateStage(run.id, k, { status: 'training', trainJobId, startedAt: stage.startedAt ?? new Date() });
      await repos.recipeRuns.note(run.id, 'stage', `${label}: training from ${from.name} at ${st.seqLength.toLocaleString('en-US')} tokens, θ ${st.ropeTheta.toLocaleString('en-US')}, ${st.steps} steps (job ${trainJobId})`, k);
    }
    const job = await waitJob(ctx, trainJobId);
    if (!job) return endedWhy(ctx, run.id);
    const gpus = Number((job.spec as { gpus?: number }).gpus ?? 0);
    const seconds = job.startedAt && job.finishedAt ? (job.finishedAt.getTime() - job.startedAt.getTime()) / 1000 : 0;
    const gpuSeconds = stage.gpuSeconds + seconds * gpus;
    if (job.status !== 'succeeded') {
      await repos.recipeRuns.updateStage(run.id, k, { status: 'failed', gpuSeconds, finishedAt: new Date() });
      return { kind: 'stopped', reason: `${label}: training ${job.status}${job.error ? `: ${job.error}` : ''}` };
    }
    const registered = (job.result ?? {}) as { modelId?: unknown };
    modelId = typeof registered.modelId === 'string' ? registered.modelId : null;
    if (!modelId) return { kind: 'stopped', reason: `${label}: the training job succeeded without registering a model` };
    await repos.recipeRuns.updateStage(run.id, k, { modelId, gpuSeconds });
    const model = await repos.models.get(modelId);
    await repos.recipeRuns.note(run.id, 'stage', `${label}: trained in ${Math.round(seconds)} s, registered ${model.name}`, k);
  }

  // 2. Gates, against the stage's model.
  const model = await repos.models.get(modelId);
  const plans = stageGates(spec, k, model);
  if (plans.length === 0) {
    await repos.recipeRuns.updateStage(run.id, k, { status: 'passed', finishedAt: new Date() });
    return { kind: 'passed' };
  }
  await repos.recipeRuns.updateStage(run.id, k, { status: 'gating' });
  const key = (what: string) => `recipe-run:${run.id}:stage:${k}:attempt:${stage.attempt}:${what}`;
  const gates: GateResult[] = [];
  let endpointId: string | null = null;
  let serveJobId = stage.serveJobId;
  if (plans.some((p) => p.kind !== 'local-check')) {
    const endpointName = `${pathSlug(model.name)}-gate`;
    if (!serveJobId) {
      const served = await serveModel(ctx.deps.jobs, { modelId, executor: run.executor === 'kubernetes' ? 'kubernetes' : 'local', endpointName, requestKey: key('serve'), ...(await runScheduling(repos, run.jobId)) }, run.requestedBy);
      serveJobId = served.job.id;
      await repos.recipeRuns.updateStage(run.id, k, { serveJobId });
      await repos.recipeRuns.note(run.id, 'gate', `${label}: serving ${model.name} for its gates (job ${serveJobId})`, k);
    }
    const endpoint = await waitServed(ctx, serveJobId, endpointName);
    if (endpoint === null) return endedWhy(ctx, run.id);
    if (typeof endpoint === 'string') {
      await repos.recipeRuns.updateStage(run.id, k, { status: 'failed', finishedAt: new Date() });
      return { kind: 'stopped', reason: `${label}: the gates' server did not come up: ${endpoint}` };
    }
    endpointId = endpoint.id;
  }
  const requestedBy = run.requestedBy;
  const limits = ((await repos.jobs.get(run.jobId)).spec as { limits?: SuiteLimits }).limits ?? { maxCells: 100_000, maxPromptTokens: 1e10 };
  for (const p of plans) {
    const name = `${model.name} gate: ${p.label}`;
    let started: { job: { id: string }; evalRun: { id: string } };
    if (p.kind === 'niah') started = await startNiahEval(ctx.deps.jobs, { name, endpointId: endpointId!, modelId, spec: p.spec, concurrency: 2, requestKey: key('niah'), requestedBy });
    else if (p.kind === 'local-check') started = await startLocalCheck(ctx.deps.jobs, { name, modelId, spec: p.spec, requestKey: key('perplexity'), requestedBy });
    else started = await startSuiteEval(ctx.deps.jobs, { name, endpointId: endpointId!, spec: p.suite, concurrency: 2, mode: 'chat', requestKey: key(p.gate), requestedBy, limits });
    gates.push(pendingGate(p, { evalRunId: started.evalRun.id, jobId: started.job.id }));
  }
  await repos.recipeRuns.updateStage(run.id, k, { gates });
  for (const g of gates) {
    const job = await waitJob(ctx, g.jobId!);
    if (!job) return endedWhy(ctx, run.id);
    const value = job.status === 'succeeded' ? await gateValue(repos, g) : null;
    g.value = value;
    g.passed = value !== null && gatePasses(g, value);
    g.error = value === null ? (job.status === 'succeeded' ? 'the run has no score' : `its job ${job.status}${job.error ? `: ${job.error}` : ''}`) : null;
    await repos.recipeRuns.note(run.id, 'gate', `${label}: ${gateWords(g)} — ${g.passed ? 'passed' : 'failed'}`, k);
  }
  if (serveJobId) await stopServer(ctx.deps, serveJobId);
  const failed = gates.filter((g) => !g.passed);
  await repos.recipeRuns.updateStage(run.id, k, { gates, status: failed.length ? 'failed' : 'passed', finishedAt: new Date() });
  if (failed.length) return { kind: 'stopped', reason: `${label}: gate failed: ${failed.map(gateWords).join('; ')}` };
  return { kind: 'passed' };
}

/** A gate's measured value: NIAH's mean score, a suite's average, or the worst perplexity over the lengths. */
async function gateValue(repos: Repositories, g: GateResult): Promise<number | null> {
  if (g.gate === 'perplexity') {
    // A local check: its job's result has the perplexity per length.
    const job = await repos.jobs.get(g.jobId!);
    const per = ((job.result ?? {}) as { perLength?: { perplexity: number | null }[] }).perLength ?? [];
    const xs = per.map((p) => p.perplexity);
    return xs.length && xs.every((x): x is number => typeof x === 'number') ? Math.max(...xs) : null;
  }
  const summary = readEvalRunSummary((await repos.evals.get(g.evalRunId!)).summary);
  const v = g.gate === 'niah' ? summary.averageScore : summary.average;
  return typeof v === 'number' ? v : null;
}

/** Waits for the gate's serve job to register its endpoint; a string says why it never will. */
async function waitServed(ctx: StageCtx, serveJobId: string, endpointName: string) {
  const deadline = Date.now() + (ctx.deps.serveTimeoutMs ?? 30 * 60_000);
  for (;;) {
    if (ctx.stop()) return null;
    const job = await ctx.deps.repos.jobs.get(serveJobId);
    if (isFinal(job.status)) return `serve job ${serveJobId} ${job.status}${job.error ? `: ${job.error}` : ''}`;
    const endpoint = await ctx.deps.repos.endpoints.findByName(endpointName);
    if (endpoint?.lastStatus === `serving (job ${serveJobId})`) return endpoint;
    if (Date.now() > deadline) return `no answer within ${Math.round((ctx.deps.serveTimeoutMs ?? 1_800_000) / 1000)} s`;
    await new Promise((r) => setTimeout(r, ctx.deps.pollMs ?? 1000));
  }
}

/** Stops the gates' server once every gate has its value (its endpoint stays registered, marked stopped). */
async function stopServer(deps: RecipeRunProcessorDeps, serveJobId: string) {
  await cancelJob(deps.jobs, serveJobId, 'its recipe run (gates done)').catch(() => undefined);
}

/** The team (checked when the run started) and priority a run's GPU jobs carry. */
async function runScheduling(repos: Repositories, runJobId: string): Promise<{ team?: string; priority: JobPriority }> {
  const spec = (await repos.jobs.get(runJobId)).spec as { teamId?: string | null; priority?: JobPriority };
  return { ...(spec.teamId ? { team: spec.teamId } : {}), priority: spec.priority ?? 'normal' };
}
