import { canRecipeRunTransition, DomainError, notFound, readGateResults, type GateResult, type RecipeRunStatus, type RecipeStageStatus } from '@ctxlab/contracts';
import type { Db } from '../client';
import { guard } from '../errors';
import type { Prisma, RecipeRunEvent as RecipeRunEventRow, RecipeRunStage as StageRow } from '../generated/prisma/client';
import { jobsRepo } from './jobs';
import { moveAlong } from './machine';

const eventOut = (e: RecipeRunEventRow) => ({ ...e, id: Number(e.id) });
const stageOut = <S extends StageRow>(s: S): Omit<S, 'status' | 'gates'> & { status: RecipeStageStatus; gates: GateResult[] } => ({ ...s, status: s.status as RecipeStageStatus, gates: readGateResults(s.gates) });

const RUN_INCLUDE = {
  recipe: { select: { id: true, name: true, version: true, spec: true } },
  baseModel: { select: { id: true, name: true } },
  job: { select: { id: true, status: true, leaseOwner: true, attempts: true } },
  stages: { orderBy: { index: 'asc' }, include: { model: { select: { id: true, name: true } } } },
} satisfies Prisma.RecipeRunInclude;

type RunRow = Prisma.RecipeRunGetPayload<{ include: typeof RUN_INCLUDE }>;
const runOut = (r: RunRow) => ({ ...r, stages: r.stages.map(stageOut) });
export type RecipeRunRecord = ReturnType<typeof runOut>;

export interface StagePatch {
  status?: RecipeStageStatus;
  name?: string;
  attempt?: number;
  trainJobId?: string | null;
  modelId?: string | null;
  serveJobId?: string | null;
  gates?: GateResult[];
  overridden?: boolean;
  gpuSeconds?: number;
  startedAt?: Date | null;
  finishedAt?: Date | null;
}

/** A stage patch as the row takes it (gates are a JSON column). */
const stageData = ({ gates, ...rest }: StagePatch): Prisma.RecipeRunStageUpdateInput => ({ ...rest, ...(gates ? { gates: gates as unknown as Prisma.InputJsonValue } : {}) });

type Tx = Pick<Db, 'recipeRun' | 'recipeRunEvent'>;

/** One move of a run in the caller's transaction: conditional on the status read, its event appended with it. */
async function moveRun(tx: Tx, id: string, from: RecipeRunStatus, to: RecipeRunStatus, message: string, patch: Prisma.RecipeRunUpdateManyMutationInput = {}, stageIndex?: number) {
  const r = await tx.recipeRun.updateMany({ where: { id, status: from }, data: { ...patch, status: to } });
  if (r.count === 0) return false;
  await tx.recipeRunEvent.create({ data: { runId: id, fromStatus: from, toStatus: to, type: 'status', message, stageIndex: stageIndex ?? null } });
  return true;
}

/**
 * Recipe runs, their stages and their event log. Every status move is a conditional update with
 * its event in one transaction (the recipe-run machine in libs/contracts/src/recipe-run.ts); the
 * run's orchestrating job moves with it where a person resumes the run.
 */
export function recipeRunsRepo(db: Db) {
  const jobs = jobsRepo(db);
  return {
    /** The run, its orchestrating job and its stage rows, all or none. */
    async create(input: {
      run: { name: string; recipeId: string; baseModelId: string; executor: string; device: string; outputRoot: string | null; requestedBy: string };
      stages: { name: string }[];
      job: { spec: unknown; idempotencyKey: string };
    }) {
      return guard('recipe run', () =>
        db.$transaction(async (tx) => {
          const { job } = await jobs.create({ kind: 'recipe-run', spec: input.job.spec, idempotencyKey: input.job.idempotencyKey, maxAttempts: 1, executor: input.run.executor }, tx);
          const run = await tx.recipeRun.create({ data: { ...input.run, jobId: job.id, stages: { create: input.stages.map((s, index) => ({ index, name: s.name })) } } });
          await tx.recipeRunEvent.create({ data: { runId: run.id, toStatus: 'queued', type: 'status', message: `created by ${input.run.requestedBy} with ${input.stages.length} stage(s)` } });
          return { run, job };
        }),
      );
    },
    /** Takes back a run whose job never reached the queue (stages and events go with it). */
    async discard(id: string) {
      const run = await db.recipeRun.findUnique({ where: { id }, select: { jobId: true } });
      if (!run) return;
      await db.$transaction([db.recipeRun.delete({ where: { id } }), db.job.delete({ where: { id: run.jobId } })]);
    },
    async get(id: string) {
      const r = await db.recipeRun.findUnique({ where: { id }, include: RUN_INCLUDE });
      if (!r) throw notFound('recipe run', id);
      return runOut(r);
    },
    async getByName(name: string) {
      const r = await db.recipeRun.findUnique({ where: { name }, include: RUN_INCLUDE });
      return r ? runOut(r) : null;
    },
    /** The run and stage index that trained a model (its newest, should a model be registered by two runs). */
    async stageOfModel(modelId: string) {
      const st = await db.recipeRunStage.findFirst({ where: { modelId }, orderBy: [{ finishedAt: { sort: 'desc', nulls: 'last' } }, { id: 'asc' }], select: { runId: true, index: true } });
      if (!st) return null;
      const r = await db.recipeRun.findUnique({ where: { id: st.runId }, include: RUN_INCLUDE });
      return r ? { run: runOut(r), index: st.index } : null;
    },
    async ofJob(jobId: string) {
      const r = await db.recipeRun.findUnique({ where: { jobId }, include: RUN_INCLUDE });
      return r ? runOut(r) : null;
    },
    /** Newest first. */
    async list(a: { recipeName?: string | undefined; name?: string | undefined; status?: RecipeRunStatus | undefined; limit: number }) {
      const rows = await db.recipeRun.findMany({
        where: { ...(a.recipeName ? { recipe: { name: a.recipeName } } : {}), ...(a.name ? { name: a.name } : {}), ...(a.status ? { status: a.status } : {}) },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: a.limit,
        include: RUN_INCLUDE,
      });
      return rows.map(runOut);
    },
    /**
     * Moves a run along its machine with an event. With `ifAllowed`, a move the machine does not
     * allow is skipped (null) instead of refused: a run a person cancelled stays cancelled.
     */
    async transition(id: string, to: RecipeRunStatus, message: string, opts: { patch?: Prisma.RecipeRunUpdateManyMutationInput; ifAllowed?: boolean; stageIndex?: number } = {}) {
      return moveAlong('recipe run', id, to, {
        read: async () => (await db.recipeRun.findUnique({ where: { id }, select: { status: true } }))?.status ?? null,
        allowed: canRecipeRunTransition,
        move: (from) => db.$transaction((tx) => moveRun(tx, id, from, to, message, opts.patch, opts.stageIndex)),
        ifAllowed: opts.ifAllowed,
      });
    },
    /** An event that is not a status move (a stage started, a gate result, a takeover). */
    async note(id: string, type: string, message: string, stageIndex?: number) {
      await db.recipeRunEvent.create({ data: { runId: id, type, message, stageIndex: stageIndex ?? null } });
    },
    async events(id: string, afterId = 0) {
      const rows = await db.recipeRunEvent.findMany({ where: { runId: id, id: { gt: BigInt(afterId) } }, orderBy: { id: 'asc' }, take: 1000 });
      return rows.map(eventOut);
    },
    async updateStage(runId: string, index: number, patch: StagePatch) {
      const s = await db.recipeRunStage.update({
        where: { runId_index: { runId, index } },
        data: stageData(patch),
        include: { model: { select: { id: true, name: true } } },
      });
      return stageOut(s);
    },
    async setStageIndex(runId: string, stageIndex: number) {
      await db.recipeRun.update({ where: { id: runId }, data: { stageIndex } });
    },
    /**
     * Queues a stopped or cancelled run again with its job, in one transaction: the run's status
     * and recipe version, the current stage reset for a retry or marked overridden for a continue,
     * the job back to queued with another attempt, and an event on each.
     */
    async requeue(id: string, from: RecipeRunStatus, message: string, change: { recipeId?: string; stageIndex?: number; stage?: { index: number; patch: StagePatch } }) {
      return db.$transaction(async (tx) => {
        const run = await tx.recipeRun.findUniqueOrThrow({ where: { id }, select: { jobId: true } });
        if (!(await moveRun(tx, id, from, 'queued', message, { ...(change.recipeId ? { recipeId: change.recipeId } : {}), ...(change.stageIndex !== undefined ? { stageIndex: change.stageIndex } : {}), reason: null, finishedAt: null }, change.stage?.index))) {
          throw new DomainError('CONFLICT', `recipe run ${id} changed while resuming it; try again`);
        }
        if (change.stage) {
          await tx.recipeRunStage.update({ where: { runId_index: { runId: id, index: change.stage.index } }, data: stageData(change.stage.patch) });
        }
        const job = await tx.job.findUniqueOrThrow({ where: { id: run.jobId } });
        const r = await tx.job.updateMany({ where: { id: job.id, status: job.status }, data: { status: 'queued', finishedAt: null, error: null, attempts: { increment: 1 }, leaseOwner: null, leaseExpiresAt: null } });
        if (r.count === 0) throw new DomainError('CONFLICT', `job ${job.id} changed while resuming its run; try again`);
        await tx.jobEvent.create({ data: { jobId: job.id, fromStatus: job.status, toStatus: 'queued', type: 'status', message } });
        return tx.job.findUniqueOrThrow({ where: { id: job.id } });
      });
    },
  };
}
