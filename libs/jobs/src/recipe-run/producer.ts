import { badRequest, DomainError, recipeSpecSchema, type RecipeRunResumeInput, type RecipeRunStartInput, type RecipeSpec } from '@ctxlab/contracts';
import type { RecipeRunRecord } from '@ctxlab/db';
import { attemptJobId, enqueue, publishCancel } from '@ctxlab/queue';
import type { Redis } from 'ioredis';
import type { JobsDeps } from '../deps';
import { cancelJob, queueError } from '../eval-runs';
import { checkSuiteSpec, type SuiteLimits } from '../suites';
import { recipeRunJob, type RecipeRunPayload } from './payload';
import { stageDatasets, stageGates, stageLabel, stageModelName, stageOutput, stageTrainSpec } from './plan';
import { resolveTeam, type Requester } from '../scheduling/requests';

/** Puts a run's orchestrating job on its queue (idempotent by job and attempt). */
export function enqueueRecipeRun(connection: Redis, payload: RecipeRunPayload, opts: { attempt?: number; prefix?: string | undefined } = {}) {
  return enqueue(connection, recipeRunJob, payload, { jobId: attemptJobId(payload.jobId, opts.attempt), prefix: opts.prefix });
}

const stamp = (d: Date) => d.toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-');

/**
 * Starts a recipe run. Every stage is checked before anything is created: its training command
 * must render (trainer, data, GPUs), its gates must be runnable on the model (NIAH's tokenizer,
 * perplexity on lab models, suites within the grid limits), and the names of the models it will
 * register must be free. Then the run, its stages and its job are written together and queued;
 * if Redis refuses the job, all of it is taken back.
 */
export async function startRecipeRun(deps: JobsDeps, input: RecipeRunStartInput & { requestedBy: string; requester?: Requester; limits: SuiteLimits }) {
  const { repos } = deps;
  // The team is checked once, here: the run's jobs are charged to it without asking again.
  const teamId = await resolveTeam(repos, input.team, input.requester ?? { name: input.requestedBy });
  const recipe = await repos.recipes.get(input.recipeId).catch(() => null);
  if (!recipe) throw badRequest(`recipeId: recipe ${input.recipeId} does not exist`, 'recipeId');
  const base = await repos.models.get(input.baseModelId).catch(() => null);
  if (!base) throw badRequest(`baseModelId: model ${input.baseModelId} does not exist`, 'baseModelId');
  const spec = recipe.spec;
  if (spec.trainer === 'custom') throw badRequest(`recipe ${recipe.name} has trainer "custom": ctxlab cannot render its training command, so it cannot run it`, 'recipeId');
  if (input.device === 'cuda' && spec.trainer !== 'lab') throw badRequest('device: only the lab trainer takes a device; the other trainers run on the GPUs their stages name', 'device');
  if (input.executor === 'kubernetes' && !input.outputRoot) {
    throw badRequest("outputRoot: a run on Kubernetes writes its stage models where the cluster's jobs can: give a file:///… path on their mounted volume (CTXLAB_JOB_VOLUME_MOUNTS) or an s3://… prefix", 'outputRoot');
  }
  const name = input.name ?? `${recipe.name}-v${recipe.version}-${stamp(new Date())}`;
  if (await repos.recipeRuns.getByName(name)) throw badRequest(`name: a recipe run named ${name} already exists`, 'name');
  const root = input.outputRoot ?? 'file:///recipe-runs';
  for (let k = 0; k < spec.stages.length; k++) {
    const stage = spec.stages[k]!;
    stageTrainSpec(spec, k, { from: base, datasets: await stageDatasets(repos, recipe.id, spec, k), output: stageOutput(root, stage, 1), device: input.device });
    for (const g of stageGates(spec, k, base)) {
      if (g.kind === 'suite') {
        await checkSuiteSpec(repos, g.suite, input.limits).catch((e: Error) => {
          throw badRequest(`${stageLabel(k, stage)}: gate ${g.gate}: ${e.message}`, 'recipeId');
        });
      }
    }
    const modelName = stageModelName(name, stage, 1);
    if (await repos.models.getByName(modelName)) throw badRequest(`name: stage ${k + 1} would register model ${modelName}, which exists; pick another run name`, 'name');
    if (stage.initFrom && !(await repos.models.getByName(stage.initFrom))) throw badRequest(`${stageLabel(k, stage)}: initFrom names model ${stage.initFrom}, which does not exist`, 'recipeId');
  }
  const { run, job } = await repos.recipeRuns.create({
    run: { name, recipeId: recipe.id, baseModelId: base.id, executor: input.executor, device: input.device, outputRoot: input.outputRoot ?? null, requestedBy: input.requestedBy },
    stages: spec.stages.map((s) => ({ name: s.name })),
    job: { spec: { recipe: `${recipe.name} v${recipe.version}`, baseModel: base.name, requestedBy: input.requestedBy, limits: input.limits, teamId, priority: input.priority ?? 'normal' }, idempotencyKey: `recipe-run:${name}` },
  });
  try {
    await enqueueRecipeRun(deps.producer(), { jobId: job.id }, { prefix: deps.queuePrefix });
  } catch (e) {
    await repos.recipeRuns.discard(run.id);
    queueError(e);
  }
  return repos.recipeRuns.get(run.id);
}

/** The same stages in both versions before stage k (a retry under a new version may change stage k and later ones only). */
function sameStagesBefore(a: RecipeSpec, b: RecipeSpec, k: number): number | null {
  for (let i = 0; i < k; i++) if (JSON.stringify(a.stages[i]) !== JSON.stringify(b.stages[i])) return i;
  return null;
}

/**
 * Resumes a stopped or cancelled run. retry: the current stage trains again as a new attempt (a
 * new model), under a newer version of the recipe when given; continue: the current stage's model
 * is accepted although a gate failed, and the run goes on to the next stage.
 */
export async function resumeRecipeRun(deps: JobsDeps, input: RecipeRunResumeInput, by: string) {
  const { repos } = deps;
  const run = await repos.recipeRuns.get(input.id);
  if (run.status !== 'stopped' && run.status !== 'cancelled') {
    throw new DomainError('PRECONDITION_FAILED', `recipe run ${run.name} is ${run.status}: only a stopped or cancelled run can be resumed`);
  }
  const k = run.stageIndex;
  const stage = run.stages[k];
  if (!stage) throw new DomainError('PRECONDITION_FAILED', `recipe run ${run.name} has finished all its stages`);
  const label = `stage ${k + 1} (${stage.name})`;
  let message: string;
  let change: Parameters<typeof repos.recipeRuns.requeue>[3];
  if (input.action === 'continue') {
    if (input.recipeId) throw badRequest('recipeId: continue keeps the recipe; a new version applies to a retry', 'recipeId');
    if (stage.status !== 'failed' || !stage.modelId || !stage.gates.some((g) => g.passed === false)) {
      throw new DomainError('PRECONDITION_FAILED', `${label} has no failed gate to continue past${stage.modelId ? '' : ' (it has no model yet)'}: retry it instead`);
    }
    message = `${by} continued past ${label}'s failed gate(s) on purpose: ${stage.gates.filter((g) => g.passed === false).map((g) => g.label).join(', ')}`;
    change = { stageIndex: k + 1, stage: { index: k, patch: { status: 'passed', overridden: true } } };
  } else {
    let next: Awaited<ReturnType<typeof repos.recipes.get>> | null = null;
    if (input.recipeId && input.recipeId !== run.recipeId) {
      next = await repos.recipes.get(input.recipeId).catch(() => null);
      if (!next) throw badRequest(`recipeId: recipe ${input.recipeId} does not exist`, 'recipeId');
      if (next.name !== run.recipe.name) throw badRequest(`recipeId: ${next.name} is another recipe; a retry takes a newer version of ${run.recipe.name}`, 'recipeId');
      if (next.version <= run.recipe.version) throw badRequest(`recipeId: version ${next.version} is not newer than the run's version ${run.recipe.version}`, 'recipeId');
      const current = recipeSpecSchema.parse(run.recipe.spec);
      if (next.spec.stages.length !== current.stages.length) throw badRequest(`recipeId: version ${next.version} has ${next.spec.stages.length} stages; the run has ${current.stages.length}`, 'recipeId');
      const differs = sameStagesBefore(current, next.spec, k);
      if (differs !== null) throw badRequest(`recipeId: version ${next.version} changes stage ${differs + 1}, which this run has finished; start a new run instead`, 'recipeId');
      const base = await repos.models.get(run.baseModelId);
      stageTrainSpec(next.spec, k, { from: base, datasets: await stageDatasets(repos, next.id, next.spec, k), output: stageOutput('file:///recipe-runs', next.spec.stages[k]!, 1), device: run.device === 'cuda' ? 'cuda' : 'cpu' });
      stageGates(next.spec, k, base);
    }
    message = `${by} retried ${label} (attempt ${stage.attempt + 1})${next ? ` under ${run.recipe.name} v${next.version}` : ''}`;
    change = {
      ...(next ? { recipeId: next.id } : {}),
      stage: { index: k, patch: { name: next ? next.spec.stages[k]!.name : stage.name, status: 'pending', attempt: stage.attempt + 1, trainJobId: null, modelId: null, serveJobId: null, gates: [], overridden: false, startedAt: null, finishedAt: null } },
    };
  }
  const job = await repos.recipeRuns.requeue(run.id, run.status, message, change);
  try {
    await enqueueRecipeRun(deps.producer(), { jobId: job.id }, { attempt: job.attempts, prefix: deps.queuePrefix });
  } catch (e) {
    // The run stays queued in PostgreSQL; a worker's reconcile puts it on the queue once Redis is back.
    queueError(e);
  }
  return repos.recipeRuns.get(run.id);
}

/** Cancels a run: the run and its job at once, then whatever its current stage has running (training, serving, gates). */
export async function cancelRecipeRun(deps: JobsDeps, id: string, by: string) {
  const { repos } = deps;
  const run = await repos.recipeRuns.get(id);
  await repos.recipeRuns.transition(run.id, 'cancelled', `cancelled by ${by}`, { patch: { reason: `cancelled by ${by}`, finishedAt: new Date() }, stageIndex: run.stageIndex });
  await cancelJob(deps, run.jobId, by).catch(() => undefined);
  await publishCancel(deps.producer(), run.jobId, deps.queuePrefix).catch(() => undefined);
  await cancelStageJobs(deps, run, by);
  return repos.recipeRuns.get(run.id);
}

/** Cancels the current stage's unfinished jobs (training, serving, gate evals). */
export async function cancelStageJobs(deps: JobsDeps, run: RecipeRunRecord, by: string) {
  const stage = run.stages[run.stageIndex];
  if (!stage) return;
  const ids = [stage.trainJobId, stage.serveJobId, ...stage.gates.map((g) => g.jobId)].filter((x): x is string => !!x);
  for (const jobId of ids) await cancelJob(deps, jobId, by).catch(() => undefined);
}
