/**
 * A recipe run as people read it: each stage with its training job's progress and loss curve,
 * wall time and GPU-hours, its gates; the run's GPU-hours so far and an ETA. The ETA is the
 * running stage's own (from its steps) plus the stages after it priced at the tokens-per-second
 * this run's finished stages achieved — no estimate before a stage has finished.
 */
import { recipeSpecSchema, stageTokens, type JobProgress } from '@ctxlab/contracts';
import type { RecipeRunRecord, Repositories } from '@ctxlab/db';

const secondsBetween = (a: Date | null, b: Date | null) => (a && b ? (b.getTime() - a.getTime()) / 1000 : null);

export async function recipeRunView(repos: Repositories, run: RecipeRunRecord, now = new Date()) {
  const spec = recipeSpecSchema.parse(run.recipe.spec);
  const trainJobs = await Promise.all(run.stages.map((s) => (s.trainJobId ? repos.jobs.find(s.trainJobId) : null)));
  const stages = run.stages.map((s, i) => {
    const job = trainJobs[i] ?? null;
    const progress = (job?.progress ?? null) as JobProgress | null;
    const gpus = Number((job?.spec as { gpus?: number } | undefined)?.gpus ?? 0);
    const trainSeconds = job ? secondsBetween(job.startedAt, job.finishedAt ?? (job.startedAt ? now : null)) : null;
    const running = job && !job.finishedAt && job.startedAt ? (trainSeconds ?? 0) * gpus : 0;
    const st = spec.stages[i];
    return {
      index: s.index, name: s.name, status: s.status, attempt: s.attempt, overridden: s.overridden,
      seqLength: st?.seqLength ?? null, ropeTheta: st?.ropeTheta ?? null, steps: st?.steps ?? null, tokens: st ? stageTokens(st) : null,
      model: s.model, trainJobId: s.trainJobId, serveJobId: s.serveJobId, gates: s.gates,
      train: job
        ? { status: job.status, error: job.error, done: progress?.done ?? null, total: progress?.total ?? null, unit: progress?.unit ?? null, loss: progress?.loss ?? null, etaSeconds: progress?.etaSeconds ?? null, curve: progress?.curve ?? [], seconds: trainSeconds, gpus }
        : null,
      gpuHours: (s.gpuSeconds + running) / 3600,
      startedAt: s.startedAt, finishedAt: s.finishedAt, seconds: secondsBetween(s.startedAt, s.finishedAt ?? (s.startedAt ? now : null)),
    };
  });
  // Tokens per second of stage wall time (training and gates) over the stages this run finished.
  const finished = stages.filter((s) => s.status === 'passed' && s.seconds && s.tokens);
  const rate = finished.length ? finished.reduce((a, s) => a + s.tokens!, 0) / finished.reduce((a, s) => a + s.seconds!, 0) : null;
  let etaSeconds: number | null = null;
  if (run.status === 'running' || run.status === 'queued') {
    const current = stages[run.stageIndex];
    const later = stages.slice(run.stageIndex + 1);
    const currentLeft = current?.train && current.train.status !== 'succeeded' ? current.train.etaSeconds : current && rate && current.tokens ? 0 : null;
    const laterLeft = rate ? later.reduce((a, s) => a + (s.tokens ?? 0) / rate, 0) : later.length ? null : 0;
    etaSeconds = currentLeft !== null && laterLeft !== null ? currentLeft + laterLeft : null;
  }
  const { recipe, baseModel, job } = run;
  return {
    id: run.id, name: run.name, status: run.status, reason: run.reason, stageIndex: run.stageIndex, executor: run.executor, device: run.device, outputRoot: run.outputRoot,
    requestedBy: run.requestedBy, createdAt: run.createdAt, startedAt: run.startedAt, finishedAt: run.finishedAt,
    recipe: { id: recipe.id, name: recipe.name, version: recipe.version }, baseModel, job: { id: job.id, status: job.status, worker: job.leaseOwner?.split('/')[0] ?? null },
    stages, gpuHours: stages.reduce((a, s) => a + s.gpuHours, 0), etaSeconds,
  };
}
export type RecipeRunView = Awaited<ReturnType<typeof recipeRunView>>;
