/**
 * Runs GPU work (train, lora-extract, lora-merge, serve) through an executor, streams its output
 * into the job's event log, and registers what it produced: a model with its lineage edges pointing
 * at this job, an adapter, or an endpoint.
 */
import { gpuOutputSchema, type GpuOutput, type JobProgress } from '@ctxlab/contracts';
import type { Repositories } from '@ctxlab/db';
import { modelConfigOf } from '@ctxlab/db';
import { join } from 'node:path';
import { Artifacts, type Executor, parseJobSpec, renderJob, STAGE_DIR, type JobHandle, type RenderOptions } from '@ctxlab/dispatch';
import { clearStaging, s3UrisOf, stagedPath, stageIn, stageOut, stagingResolver } from '../artifact-staging';
import { leased } from '../lease';
import { canStart, canTransition } from '../statuses';
import type { GpuPayload } from './payload';

export interface GpuProcessorDeps {
  repos: Repositories;
  workerName: string;
  /** How long a job's lease lives without renewal (JOB_LEASE_MS). */
  leaseMs: number;
  executors: Partial<Record<'local' | 'kubernetes', Executor>>;
  artifacts: Artifacts;
  /** Per executor: where its tools are (local: this checkout's lab scripts and model server; kubernetes: the images' defaults). */
  renderOptions?: Partial<Record<'local' | 'kubernetes', RenderOptions>>;
  onCancel: (jobId: string, fn: () => void) => () => void;
  /** How often a job's status is read while it waits to run. Default 5 s. */
  statusEveryMs?: number;
  /**
   * After this long waiting for a place to run (the cluster has no free GPU of the type although the
   * scheduler admitted the job: its report was stale, another tenant took the GPUs), the job's log
   * says so, once; it goes on waiting. Default 30 min.
   */
  pendingTimeoutMs?: number;
  /** Called when a job gives its GPUs back, so waiting jobs need not wait for the next scheduling pass. */
  reschedule?: () => Promise<unknown>;
  /** A job whose image cannot be pulled for this long fails. Default 2 min. */
  imagePullGraceMs?: number;
}

const IMAGE_ERRORS = /^(ErrImagePull|ImagePullBackOff|InvalidImageName|ErrImageNeverPull|CreateContainerConfigError)\b/;

/**
 * Watches a job while it is not running: each new reason it waits (the scheduler's "0/12 nodes are
 * available: 12 Insufficient nvidia.com/gpu", an image pull back-off) goes into the event log, and
 * the moment it first runs is the start of its GPU time. An image that cannot be pulled after a
 * grace period fails the job (that wait will not end on its own); waiting for a place to run never
 * does — past the pending timeout the log says how long it has waited, and it waits on.
 */
function pendingWatch(deps: GpuProcessorDeps, jobId: string, handle: JobHandle, fail: (reason: string) => void) {
  const everyMs = deps.statusEveryMs ?? 5000;
  const pendingTimeoutMs = deps.pendingTimeoutMs ?? 30 * 60_000;
  const imagePullGraceMs = deps.imagePullGraceMs ?? 120_000;
  let stopped = false;
  let lastReason: string | undefined;
  let pendingSince: number | null = null;
  let imageSince: number | null = null;
  let longWaitNoted = false;
  const loop = (async () => {
    while (!stopped) {
      await new Promise((r) => setTimeout(r, everyMs));
      if (stopped) return;
      const st = await handle.status().catch(() => null);
      if (!st) continue;
      if (st.phase !== 'pending') {
        if (st.phase === 'running' || st.phase === 'ready') await deps.repos.jobs.markGpuTime(jobId, 'start').catch(() => undefined);
        pendingSince = imageSince = null;
        lastReason = undefined;
        if (st.phase !== 'running' && st.phase !== 'ready') return;
        continue;
      }
      const now = Date.now();
      pendingSince ??= now;
      if (st.message && st.message !== lastReason) {
        lastReason = st.message;
        await deps.repos.jobs.note(jobId, 'waiting', `waiting to run: ${st.message}`).catch(() => undefined);
      }
      if (st.message && IMAGE_ERRORS.test(st.message)) {
        imageSince ??= now;
        if (now - imageSince >= imagePullGraceMs) return fail(`the container image cannot be pulled: ${st.message}`);
      } else imageSince = null;
      if (now - pendingSince >= pendingTimeoutMs && !longWaitNoted) {
        longWaitNoted = true;
        const gpus = /Insufficient [\w./-]*gpu/i.test(st.message ?? '') ? ' (not enough free GPUs of the requested type)' : '';
        await deps.repos.jobs.note(jobId, 'waiting', `still waiting for a place to run after ${Math.round(pendingTimeoutMs / 1000)} s${gpus}; it goes on waiting${st.message ? `: ${st.message}` : ''}`).catch(() => undefined);
      }
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop.catch(() => undefined);
    },
  };
}

/** What a GPU job's progress says: steps (training), modules (LoRA), items (tqdm bars); a training job's loss curve. */
export type GpuProgress = Required<Pick<JobProgress, 'done' | 'total' | 'unit' | 'loss' | 'etaSeconds' | 'curve'>>;
const CURVE_POINTS = 240;

/**
 * Reads progress from a tool's output: the lab trainer's and EasyContext's `step N/M … loss X`,
 * lora.py's `module i/N`, and tqdm bars (`| 112/224 [`) of mergekit and vLLM downloads.
 */
export function progressTracker(startedAt = Date.now()) {
  let p: GpuProgress | null = null;
  let changed = false;
  return {
    line(text: string) {
      const step = /\bstep (\d+)\/(\d+)\b/.exec(text);
      const mod = step ? null : /\bmodule (\d+)\/(\d+)\b/.exec(text);
      const bar = step || mod ? null : /\|\s*(\d+)\/(\d+)\s*\[/.exec(text);
      const m = step ?? mod ?? bar;
      if (!m) return;
      const done = Number(m[1]);
      const total = Number(m[2]);
      if (!(total > 0) || done > total) return;
      const unit = step ? 'steps' : mod ? 'modules' : 'items';
      const lossM = step ? /\bloss(?:_ans)?[ =:]+(-?\d+(?:\.\d+)?(?:e-?\d+)?)/.exec(text) : null;
      const loss = lossM ? Number(lossM[1]) : null;
      const curve = p?.unit === unit ? p.curve : [];
      if (loss !== null && Number.isFinite(loss)) {
        curve.push([done, loss]);
        if (curve.length > CURVE_POINTS) curve.splice(0, curve.length, ...curve.filter((_, i) => i % 2 === 0 || i === curve.length - 1));
      }
      const elapsed = (Date.now() - startedAt) / 1000;
      p = { done, total, unit, loss: loss ?? (p?.unit === unit ? p.loss : null), etaSeconds: done > 0 ? (elapsed / done) * (total - done) : null, curve };
      changed = true;
    },
    /** The progress when it changed since the last call, else null. */
    take(): GpuProgress | null {
      if (!changed) return null;
      changed = false;
      return p;
    },
  };
}

/** Output lines go to the event log in batches: one event per half second at most; progress with them. */
function logPump(repos: Repositories, jobId: string, handle: JobHandle) {
  let buffer: string[] = [];
  const tail: string[] = [];
  const progress = progressTracker();
  const flush = async () => {
    const p = progress.take();
    if (p) await repos.jobs.setProgress(jobId, p).catch(() => undefined);
    if (buffer.length === 0) return;
    const lines = buffer;
    buffer = [];
    await repos.jobs.note(jobId, 'log', lines.join('\n')).catch(() => undefined);
  };
  const timer = setInterval(() => void flush(), 500);
  const done = (async () => {
    for await (const line of handle.logs()) {
      buffer.push(line.text);
      progress.line(line.text);
      tail.push(line.text);
      if (tail.length > 20) tail.shift();
      if (buffer.length >= 200) await flush();
    }
  })();
  return {
    tail: () => tail,
    stop: async () => {
      await done.catch(() => undefined);
      clearInterval(timer);
      await flush();
    },
  };
}

async function register(repos: Repositories, jobId: string, teamId: string | null, output: GpuOutput, outputs: string[], digest: string | null, trainedOn: readonly string[]) {
  const uri = outputs[0] ?? null;
  switch (output.kind) {
    case 'model': {
      const parent = await repos.models.get(output.parentModelId);
      const config = { ...modelConfigOf(parent), ...(output.ropeTheta ? { ropeTheta: output.ropeTheta } : {}), ...(output.maxPositionEmbeddings ? { maxPositionEmbeddings: output.maxPositionEmbeddings } : {}) };
      const model = await repos.models.create({ name: output.name, origin: 'derived', family: parent.family ?? undefined, sourceUri: uri ?? undefined, tags: ['produced-by-job', ...(output.tags ?? [])], config, description: `Produced by job ${jobId}${digest ? ` (${digest})` : ''}${output.note ? `: ${output.note}` : ''}` }, undefined, teamId);
      await repos.models.addLineage({ parentId: parent.id, childId: model.id, kind: output.lineage, jobId, note: output.note });
      if (output.otherParentModelId) await repos.models.addLineage({ parentId: output.otherParentModelId, childId: model.id, kind: output.lineage, jobId });
      // model ← dataset: the registered datasets the training read, by their URIs.
      for (const uri of trainedOn) {
        const d = await repos.datasets.findByUri(uri);
        if (d) await repos.datasets.addTrainedModel(d.id, model.id, jobId, `trained by job ${jobId}`);
      }
      return { modelId: model.id };
    }
    case 'adapter': {
      const a = await repos.adapters.create({
        name: output.name, baseModelId: output.baseModelId, sourceModelId: output.sourceModelId, rank: output.rank, alpha: output.alpha ?? output.rank,
        targetModules: output.targetModules, dtype: 'bf16', uri: uri ?? undefined, digest: digest ?? undefined, tags: ['produced-by-job'], jobId, teamId,
      });
      return { adapterId: a.id };
    }
    default:
      return {};
  }
}

/** The GPU queue's processor. A job redelivered by the queue while its worker still runs it (a stalled lock) is not started twice: it runs under the job's lease. */
export function gpuProcessor(deps: GpuProcessorDeps) {
  return leased(deps.repos, deps.workerName, deps.leaseMs, (p: GpuPayload) => p.jobId, (p) => runGpuJob(deps, p.jobId));
}

async function runGpuJob(deps: GpuProcessorDeps, jobId: string) {
  const { repos } = deps;
  const job = await repos.jobs.find(jobId);
  if (!job) return { skipped: `job ${jobId} does not exist` };
  if (!canStart(job.status)) return { skipped: `job ${jobId} is ${job.status}` };
  const stored = job.spec as { spec: unknown; executor: 'local' | 'kubernetes'; output?: unknown };
  const executor = deps.executors[stored.executor];
  if (!executor) {
    const reason = `the ${stored.executor} executor is not configured on worker ${deps.workerName}`;
    await repos.jobs.transition(jobId, 'failed', reason, canTransition, { error: reason });
    return { failed: reason };
  }
  let rendered: ReturnType<typeof renderJob>;
  let trainedOn: readonly string[] = [];
  // A local job reads and writes s3:// artifacts through a staging directory under the artifact root;
  // on Kubernetes the pod's stager moves them through STAGE_DIR (see libs/dispatch's manifests).
  const staging = stored.executor === 'local' ? join(deps.artifacts.local.root, '.staging', jobId) : null;
  const stageRoot = staging ?? STAGE_DIR;
  let s3Uris: string[] = [];
  try {
    const spec = parseJobSpec(stored.spec);
    if (spec.kind === 'train') trainedOn = spec.datasets;
    s3Uris = s3UrisOf(spec);
    const options = deps.renderOptions?.[stored.executor];
    rendered = renderJob(spec, s3Uris.length ? { ...options, resolveUri: stagingResolver(stageRoot) } : options);
    if (!staging && s3Uris.length) {
      const moved = new Set([...rendered.outputs, ...(rendered.scratch ?? [])]);
      const at = (uri: string) => ({ uri, path: stagedPath(stageRoot, uri) });
      rendered = { ...rendered, staging: { inputs: s3Uris.filter((u) => !moved.has(u)).map(at), outputs: s3Uris.filter((u) => rendered.outputs.includes(u)).map(at) } };
    }
  } catch (e) {
    // A spec stored before a policy tightened (e.g. an env variable now refused) fails with the reason instead of staying queued.
    const reason = `the job spec is refused: ${(e as Error).message}`;
    await repos.jobs.transition(jobId, 'failed', reason, canTransition, { error: reason });
    return { failed: reason };
  }
  const output = gpuOutputSchema.parse(stored.output ?? { kind: 'none' });
  await repos.jobs.transition(jobId, 'running', `started by ${deps.workerName} on the ${executor.name} executor: ${rendered.argv.join(' ').slice(0, 500)}`, canTransition);
  const writes = new Set([...rendered.outputs, ...(rendered.scratch ?? [])]);
  const s3Outputs = s3Uris.filter((u) => rendered.outputs.includes(u));
  if (staging) {
    try {
      for (const uri of s3Uris.filter((u) => !writes.has(u))) {
        const { info } = await stageIn(deps.artifacts, uri, staging);
        await repos.jobs.note(jobId, 'staged', `staged ${uri} (${info?.kind ?? 'file'}, sha256 ${info?.sha256.slice(0, 12) ?? '?'}…) into ${stagedPath(staging, uri)}`);
      }
    } catch (e) {
      const reason = `staging the job's inputs failed: ${(e as Error).message}`;
      await clearStaging(staging);
      await repos.jobs.transition(jobId, 'failed', reason, canTransition, { error: reason });
      return { failed: reason };
    }
  }
  // Local jobs write file:// outputs only under the artifact root (the executor refuses the rest).
  const handle = await executor.start(jobId, rendered, { writableRoots: [deps.artifacts.local.root] }).catch(async (e: unknown) => {
    await repos.jobs.transition(jobId, 'failed', (e as Error).message, canTransition, { error: (e as Error).message });
    throw e;
  });
  // The executor's clock: a process runs from its start; a pod from when it leaves Pending (see pendingWatch).
  if ((await handle.status().catch(() => null))?.phase !== 'pending') await repos.jobs.markGpuTime(jobId, 'start');
  let cancelled = false;
  const unsubscribe = deps.onCancel(jobId, () => {
    cancelled = true;
    void handle.cancel('cancelled by a person');
  });
  const pump = logPump(repos, jobId, handle);
  let failure: string | null = null;
  const watch = pendingWatch(deps, jobId, handle, (reason) => {
    failure = reason;
    void handle.cancel(reason);
  });
  try {
    if (rendered.kind === 'serve') {
      const { url } = await handle.ready({ timeoutMs: 30 * 60_000 });
      if (output.kind === 'endpoint') {
        const data = { url: `${url}/v1`, servedModelName: rendered.service!.servedName, kind: 'vllm', gpuType: rendered.resources.gpuType, gpuCount: rendered.resources.gpus, modelId: output.modelId ?? null, lastStatus: `serving (job ${jobId})`, lastCheckedAt: new Date(), teamId: job.teamId };
        await repos.endpoints.upsertServed(output.name, data);
      }
      await repos.jobs.note(jobId, 'ready', `serving at ${url}/v1`);
    }
    const result = await handle.wait();
    await repos.jobs.markGpuTime(jobId, 'end');
    await watch.stop();
    await pump.stop();
    if (failure) {
      const reason = `${rendered.tool.name} did not start: ${failure}`;
      await repos.jobs.transition(jobId, 'failed', reason, canTransition, { error: reason });
      return { failed: reason };
    }
    if (rendered.kind === 'serve' && output.kind === 'endpoint') {
      // The endpoint stays registered (its runs point at it) but says it is no longer served.
      await repos.endpoints.recordHealthByName(output.name, `stopped: ${cancelled ? 'stopped by a person' : (result.message ?? result.reason)}`).catch(() => undefined);
    }
    if (cancelled) return { cancelled: true };
    if (result.reason !== 'succeeded' && !(rendered.kind === 'serve' && result.reason === 'stopped')) {
      const reason = `${rendered.tool.name} ${result.reason}${result.exitCode !== null && result.exitCode !== undefined ? ` (exit code ${result.exitCode})` : ''}${result.message ? `: ${result.message}` : ''}; last output: ${pump.tail().slice(-3).join(' | ')}`;
      await repos.jobs.transition(jobId, 'failed', reason, canTransition, { error: reason });
      return { failed: reason };
    }
    // Outputs staged for S3 are uploaded (the manifest last) before anything is registered.
    const uploaded = new Map<string, string>();
    for (const uri of staging ? s3Outputs : []) {
      const info = await stageOut(deps.artifacts, stagedPath(staging!, uri), uri);
      uploaded.set(uri, `sha256:${info.sha256}`);
      await repos.jobs.note(jobId, 'uploaded', `uploaded ${uri} (${info.kind}, ${info.size} bytes, sha256 ${info.sha256.slice(0, 12)}…)`);
    }
    const digests = await Promise.all(rendered.outputs.map((u) => uploaded.get(u) ?? deps.artifacts.digest(u).then((d) => `sha256:${d.sha256}`).catch(() => null)));
    const registered = await register(repos, jobId, job.teamId, output, rendered.outputs, digests[0] ?? null, trainedOn);
    const summary = { outputs: rendered.outputs, digests, ...registered };
    await repos.jobs.transition(jobId, 'succeeded', `done: ${rendered.outputs.join(', ') || 'no outputs'}`, canTransition, { result: summary });
    return summary;
  } catch (e) {
    await repos.jobs.markGpuTime(jobId, 'end').catch(() => undefined);
    await watch.stop();
    await pump.stop();
    const tail = pump.tail().slice(-3).join(' | ');
    const reason = failure ? `${rendered.tool.name} did not start: ${failure as string}` : `${(e as Error).message}${tail ? `; last output: ${tail}` : ''}`;
    const current = await repos.jobs.get(jobId);
    if (current.status === 'running') await repos.jobs.transition(jobId, 'failed', reason, canTransition, { error: reason });
    throw e;
  } finally {
    unsubscribe();
    if (staging && s3Uris.length) await clearStaging(staging);
    void deps.reschedule?.().catch(() => undefined);
  }
}

