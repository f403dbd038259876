import { isTokenizerName } from '@ctxlab/tokenizers';
/**
 * What one stage of a recipe run does, as specs: its training job and its gates. The producer
 * builds them for every stage before a run is accepted (so a stage that could never start is
 * refused up front, naming the stage), and the processor builds the same ones when it gets there.
 */
import { badRequest, isLabModel, localCheckSpecSchema, niahSpecSchema, type GateResult, type LocalCheckSpec, type NiahSpec, type RecipeSpec, type RecipeStage, type SuiteSpec } from '@ctxlab/contracts';
import type { ModelRecord, Repositories } from '@ctxlab/db';
import { DispatchError, parseJobSpec, renderJob, trainSpecFromRecipe } from '@ctxlab/dispatch';

export const stageLabel = (k: number, stage: Pick<RecipeStage, 'name'>) => `stage ${k + 1} (${stage.name})`;

/** A name as a path segment: runs of other characters than letters, digits, ".", "_" and "-" become "-". */
export const pathSlug = (name: string) => name.trim().replace(/[^A-Za-z0-9._-]+/g, '-');

/** A stage's name as a path segment and model-name part. */
export const stageSlug = (stage: Pick<RecipeStage, 'name'>) => pathSlug(stage.name).replace(/^[^A-Za-z0-9]+/, '') || 'stage';

/** The model a stage registers: <run>-<stage>, and -a<attempt> from the second attempt on. */
export const stageModelName = (runName: string, stage: Pick<RecipeStage, 'name'>, attempt: number) => `${runName}-${stageSlug(stage)}${attempt > 1 ? `-a${attempt}` : ''}`;

/** Where a stage writes its model: a directory under the run's output root. */
export const stageOutput = (outputRoot: string, stage: Pick<RecipeStage, 'name'>, attempt: number) =>
  `${outputRoot.replace(/\/+$/, '')}/${stageSlug(stage)}${attempt > 1 ? `-a${attempt}` : ''}`;

/** The train job spec of stage k: from `from`'s weights, with the recipe's data, written to `output`. */
export function stageTrainSpec(recipe: RecipeSpec, k: number, io: { from: ModelRecord; datasets: string[]; output: string; device: 'cpu' | 'cuda' }) {
  const stage = recipe.stages[k]!;
  if (!io.from.sourceUri) throw badRequest(`${stageLabel(k, stage)}: model ${io.from.name} has no sourceUri, so there are no weights to train from`, 'baseModelId');
  try {
    const spec = { ...trainSpecFromRecipe(recipe, k, { model: io.from.sourceUri, datasets: io.datasets, output: io.output }), ...(recipe.trainer === 'lab' ? { device: io.device } : {}) };
    renderJob(parseJobSpec(spec));
    return spec;
  } catch (e) {
    if (e instanceof DispatchError) throw badRequest(`${stageLabel(k, stage)}: ${e.message}`, 'recipeId');
    throw e;
  }
}

/**
 * The datasets stage k trains on: the dataset prepared from the stage's data recipe (datasets.prepare
 * for this recipe and stage) when it has one, else the recipe's data mix entries that name a
 * registered dataset, by where each is stored (else its source URI).
 */
export async function stageDatasets(repos: Repositories, recipeId: string, recipe: RecipeSpec, k: number): Promise<string[]> {
  const stage = recipe.stages[k];
  if (stage?.data) {
    const prepared = await repos.datasets.preparedForStage(recipeId, k + 1);
    if (!prepared?.uri) {
      throw badRequest(`stage ${k + 1} (${stage.name}) trains on its data recipe, which is not prepared yet: run \`ctxlab datasets prepare --recipe … --stage ${k + 1}\` (or datasets.prepare) first`, 'recipeId');
    }
    return [prepared.uri];
  }
  return recipeDatasets(repos, recipe);
}

/** The datasets of the recipe's data mix that name a registered dataset, by where each is stored (else its source URI). */
async function recipeDatasets(repos: Repositories, recipe: RecipeSpec): Promise<string[]> {
  const ids = recipe.dataMix.map((d) => d.datasetId).filter((x): x is string => !!x);
  const datasets = await Promise.all(ids.map((id) => repos.datasets.get(id).catch(() => null)));
  return datasets.map((d, i) => {
    if (!d) throw badRequest(`the recipe's dataMix names dataset ${ids[i]}, which does not exist`, 'recipeId');
    return d.uri ?? d.source;
  });
}

/** A gate to start: `gate` names it in results (niah, perplexity, or suite:<id>). */
export type GatePlan =
  | { kind: 'niah'; gate: string; label: string; op: '>='; threshold: number; spec: NiahSpec }
  | { kind: 'local-check'; gate: string; label: string; op: '<='; threshold: number; spec: LocalCheckSpec }
  | { kind: 'suite'; gate: string; label: string; op: '>=' | '<='; threshold: number; suite: SuiteSpec };

const n = (x: number) => x.toLocaleString('en-US');
const plural = (k: number, word: string) => `${k} ${word}${k === 1 ? '' : 's'}`;

/** The gates of stage k on a model of `model`'s kind: NIAH at the stage's length, perplexity at lengths, suites. */
export function stageGates(recipe: RecipeSpec, k: number, model: Pick<ModelRecord, 'name' | 'tokenizer' | 'vocabSize'>): GatePlan[] {
  const stage = recipe.stages[k]!;
  const g = stage.gates;
  if (!g) return [];
  const out: GatePlan[] = [];
  if (g.niah) {
    if (!isTokenizerName(model.tokenizer)) {
      throw badRequest(`${stageLabel(k, stage)}: the NIAH gate builds prompts with the model's tokenizer, and ${model.name}'s "${model.tokenizer}" is not one ctxlab can load (a built-in name or hf:/dir of an imported tokenizer.json)`, 'recipeId');
    }
    const length = g.niah.length ?? stage.seqLength;
    const spec = niahSpecSchema.parse({
      variant: 'value',
      tokenizer: model.tokenizer,
      grid: { lengths: { kind: 'list', values: [length] }, depths: { kind: 'list', values: g.niah.depths }, samples: g.niah.samples },
      seed: 0,
    });
    out.push({ kind: 'niah', gate: 'niah', op: '>=', label: `NIAH @${n(length)} (${plural(g.niah.depths.length, 'depth')} × ${plural(g.niah.samples, 'sample')})`, threshold: g.niah.minScore, spec });
  }
  if (g.perplexity) {
    if (!isLabModel(model)) {
      throw badRequest(`${stageLabel(k, stage)}: perplexity gates run as local checks of lab models on the worker's onnxruntime; ${model.name} is not a lab model (use a suite gate with suite "perplexity" against its endpoint)`, 'recipeId');
    }
    const lengths = g.perplexity.lengths ?? [Math.min(stage.seqLength, 16_384)];
    const spec = localCheckSpecSchema.parse({ kind: 'perplexity', lengths, samples: g.perplexity.samples });
    out.push({ kind: 'local-check', gate: 'perplexity', op: '<=', label: `perplexity @${lengths.map(n).join(', ')}`, threshold: g.perplexity.max, spec });
  }
  for (const s of g.suites) {
    const perplexity = s.spec.suite === 'perplexity';
    out.push({ kind: 'suite', gate: `suite:${s.spec.suite}`, label: `${s.spec.suite} ${perplexity ? 'perplexity' : 'average'}`, op: perplexity ? '<=' : '>=', threshold: (perplexity ? s.max : s.minScore) ?? 0, suite: s.spec });
  }
  return out;
}

/** A gate before it has a value. */
export const pendingGate = (p: GatePlan, ids: { evalRunId: string | null; jobId: string | null }): GateResult => ({
  gate: p.gate, label: p.label, op: p.op, threshold: p.threshold, value: null, passed: null, error: null, ...ids,
});

/** Whether a value passes its gate. */
export const gatePasses = (g: Pick<GateResult, 'op' | 'threshold'>, value: number) => (g.op === '<=' ? value <= g.threshold : value >= g.threshold);

/** "NIAH @1,024 scored 40.0 (needs ≥ 60)" */
export const gateWords = (g: GateResult) =>
  g.value === null ? `${g.label}: no value (${g.error ?? 'its job did not finish'})` : `${g.label} ${g.op === '<=' ? 'was' : 'scored'} ${g.value.toFixed(g.op === '<=' ? 3 : 1)} (needs ${g.op === '<=' ? '≤' : '≥'} ${g.threshold})`;
