/**
 * `ctxlab recipes …`: list recipes, run one from a base model (stage by stage with its gates),
 * watch a run with a progress bar per stage, cancel it, or resume it (retry the stage, or
 * continue past a failed gate on purpose).
 */
import type { createClient } from '@ctxlab/api/client';
import { MultiBar, type SingleBar } from 'cli-progress';
import { modelByName } from './lookup';
import { schedulingOf } from './queue';
import { table } from './table';

type Api = ReturnType<typeof createClient>;
type Opts = Record<string, string | boolean | undefined>;
type Result = { data: unknown; text: string };
type View = Awaited<ReturnType<Api['recipes']['runGet']['query']>>;

const FINAL = ['succeeded', 'stopped', 'cancelled'];
const minutes = (s: number | null) => (s === null ? '—' : s < 90 ? `${Math.round(s)} s` : `${(s / 60).toFixed(1)} min`);

/** A recipe by name: the newest version, or --version N. */
async function recipeByName(api: Api, name: string, version?: number) {
  const versions = await api.recipes.versions.query({ name });
  const r = version ? versions.find((v) => v.version === version) : versions[0];
  if (!r) throw new Error(version ? `recipe ${name} has no version ${version} (ctxlab recipes list)` : `no recipe named ${name} (ctxlab recipes list)`);
  return r;
}

async function runByName(api: Api, nameOrId: string) {
  const [byName] = await api.recipes.runs.query({ name: nameOrId, limit: 1 });
  const r = byName ?? (await api.recipes.runGet.query({ id: nameOrId }).catch(() => null));
  if (!r) throw new Error(`no recipe run named ${nameOrId} (ctxlab recipes runs)`);
  return r;
}

/** The stage table: status, training, model, gates. */
export function runText(v: View): string {
  const rows = v.stages.map((s) => [
    `${s.index + 1} ${s.name}`,
    `${s.status}${s.attempt > 1 ? ` (attempt ${s.attempt})` : ''}${s.overridden ? ' (continued past gate)' : ''}`,
    s.train ? `${s.train.done ?? 0}/${s.train.total ?? s.steps ?? '?'} ${s.train.unit ?? 'steps'}${s.train.loss !== null ? ` loss ${s.train.loss.toFixed(3)}` : ''}` : '—',
    s.model?.name ?? '—',
    s.gates.map((g) => `${g.label} ${g.value === null ? '…' : g.value.toFixed(g.op === '<=' ? 3 : 1)} ${g.op} ${g.threshold} ${g.passed === null ? '' : g.passed ? 'pass' : 'FAIL'}`.trim()).join('; ') || '—',
  ]);
  const head = `${v.name}: ${v.status}${v.reason ? ` — ${v.reason}` : ''} · GPU-hours ${v.gpuHours.toFixed(3)}${v.etaSeconds !== null ? ` · ETA ${minutes(v.etaSeconds)}` : ''}`;
  return `${head}\n${table(['stage', 'status', 'training', 'model', 'gates'], rows)}`;
}

/** Follows a run until it succeeds, stops or is cancelled: one bar per stage (steps, then gates). */
async function watchRun(api: Api, id: string): Promise<View> {
  const multi = new MultiBar({ format: '{stage} |{bar}| {value}/{total} {unit} · {detail}', stream: process.stderr, noTTYOutput: true, notTTYSchedule: 5000, hideCursor: true });
  const bars = new Map<number, SingleBar>();
  try {
    for (;;) {
      const v = await api.recipes.runGet.query({ id });
      for (const s of v.stages) {
        if (s.status === 'pending' && !bars.has(s.index)) continue;
        const total = s.train?.total ?? s.steps ?? 1;
        const done = s.status === 'passed' || s.status === 'gating' || s.status === 'failed' ? total : (s.train?.done ?? 0);
        const detail = s.status === 'gating' ? `gates: ${s.gates.filter((g) => g.value !== null).length}/${s.gates.length}` : s.status === 'training' ? `loss ${s.train?.loss?.toFixed(3) ?? '—'} · ETA ${minutes(s.train?.etaSeconds ?? null)}` : s.status;
        const payload = { stage: `${s.index + 1} ${s.name}`.padEnd(16), unit: s.train?.unit ?? 'steps', detail };
        const bar = bars.get(s.index) ?? bars.set(s.index, multi.create(total, 0, payload)).get(s.index)!;
        bar.setTotal(total);
        bar.update(done, payload);
      }
      if (FINAL.includes(v.status)) return v;
      await new Promise((r) => setTimeout(r, 1000));
    }
  } finally {
    multi.stop();
  }
}

export async function recipesCommand(api: Api, sub: string | undefined, arg: string | undefined, o: Opts): Promise<Result | null> {
  if (sub === 'run' && arg) {
    if (!o.from) throw new Error('usage: ctxlab recipes run NAME --from MODEL [--version N] [--name RUN] [--executor local|kubernetes] [--device cpu|cuda] [--output URI] [--team T] [--priority P] [--wait]');
    const recipe = await recipeByName(api, arg, o.version ? Number(o.version) : undefined);
    const base = await modelByName(api, o.from as string);
    const executor = (o.executor as string | undefined) ?? 'local';
    if (executor !== 'local' && executor !== 'kubernetes') throw new Error(`--executor must be local or kubernetes; got ${executor}`);
    const device = (o.device as string | undefined) ?? 'cpu';
    if (device !== 'cpu' && device !== 'cuda') throw new Error(`--device must be cpu or cuda; got ${device}`);
    const v = await api.recipes.run.mutate({
      recipeId: recipe.id, baseModelId: base.id, executor, device,
      ...(o.name ? { name: o.name as string } : {}), ...(o.output ? { outputRoot: o.output as string } : {}), ...schedulingOf(o),
    });
    const head = `started recipe run ${v.name}: ${recipe.name} v${recipe.version} from ${base.name}, ${v.stages.length} stage(s)`;
    if (!o.wait) return { data: v, text: head };
    process.stderr.write(`${head}\n`);
    const end = await watchRun(api, v.id);
    if (end.status !== 'succeeded') process.exitCode = 1;
    return { data: end, text: runText(end) };
  }
  if (sub === 'runs') {
    const runs = await api.recipes.runs.query({ limit: 50, ...(arg ? { recipeName: arg } : {}) });
    return { data: runs, text: table(['run', 'recipe', 'status', 'stage', 'GPU-hours', 'reason'], runs.map((r) => [r.name, `${r.recipe.name} v${r.recipe.version}`, r.status, `${Math.min(r.stageIndex + 1, r.stages.length)}/${r.stages.length}`, r.gpuHours.toFixed(3), r.reason ?? ''])) };
  }
  if (sub === 'watch' && arg) {
    const run = await runByName(api, arg);
    const end = FINAL.includes(run.status) ? run : await watchRun(api, run.id);
    return { data: end, text: runText(end) };
  }
  if (sub === 'cancel' && arg) {
    const v = await api.recipes.runCancel.mutate({ id: (await runByName(api, arg)).id });
    return { data: v, text: runText(v) };
  }
  if (sub === 'resume' && arg) {
    const action = o.continue ? 'continue' : 'retry';
    const run = await runByName(api, arg);
    const recipeId = o.version ? (await recipeByName(api, run.recipe.name, Number(o.version))).id : undefined;
    const v = await api.recipes.runResume.mutate({ id: run.id, action, ...(recipeId ? { recipeId } : {}) });
    if (!o.wait) return { data: v, text: `resumed ${v.name} (${action})` };
    const end = await watchRun(api, v.id);
    if (end.status !== 'succeeded') process.exitCode = 1;
    return { data: end, text: runText(end) };
  }
  return null;
}

export const recipesUsage = `recipes run NAME --from MODEL [--version N] [--name RUN] [--executor local|kubernetes] [--device cpu|cuda] [--output URI] [--team T] [--priority P] [--wait]
  recipes runs [RECIPE] | recipes watch RUN | recipes cancel RUN
  recipes resume RUN [--continue] [--version N] [--wait]   retry the stopped stage (under version N), or continue past its failed gate`;
