import { modelServingSchema, type ModelConfig, type RecipeSpec, type RecipeStage } from '@ctxlab/contracts';
import { modelConfigOf, type Repositories } from '@ctxlab/db';
import {
  renderAdapterCard,
  renderModelCard,
  type CardEvaluation,
  type CardHeatmap,
  type CardRecipe,
  type CardRelative,
  type CardServing,
  type CardStage,
  type ModelCardInput,
} from '@ctxlab/hub';
import { parseUri } from '@ctxlab/dispatch';
import { findGpu, smallestTensorParallelSize, vllmCommand } from '@ctxlab/longctx';
import { runHeatmap } from './evals';
import { scorecard } from './scorecard';

type ModelRecord = Awaited<ReturnType<Repositories['models']['get']>>;

/** The Hugging Face id a registry model is known by: what it was imported from, or its hf:// source. */
function hfNameOf(m: Pick<ModelRecord, 'hub' | 'sourceUri'>): string | undefined {
  const hub = m.hub as { hubName?: unknown } | null;
  if (hub && typeof hub.hubName === 'string') return hub.hubName;
  if (!m.sourceUri?.startsWith('hf://')) return undefined;
  try {
    const u = parseUri(m.sourceUri);
    return u.scheme === 'hf' ? u.repo : undefined;
  } catch {
    return undefined; // a source that is not a valid Hub id is not a base_model
  }
}

const HEATMAPS = 3;
/** Scores (0–100) to 2 decimals, perplexities to 3, token counts whole: what a reader compares. */
const round = (v: number, unit: string) => {
  const k = unit === 'perplexity' ? 1000 : unit === 'tokens' ? 1 : 100;
  return Math.round(v * k) / k;
};
/** The GPU a planned serving section assumes when the model carries no published launch. */
const DEFAULT_SERVING_GPU = 'h100-sxm-80gb';

function cardStage(s: RecipeStage, index: number): CardStage {
  const batchTokens = s.seqLength * s.batchSize * s.gradientAccumulation;
  return {
    index: index + 1,
    name: s.name,
    ropeTheta: s.ropeTheta,
    seqLength: s.seqLength,
    steps: s.steps,
    batchSize: s.batchSize,
    batchTokens,
    totalTokens: s.declaredTotalTokens ?? batchTokens * s.steps,
    learningRate: s.learningRate,
    gpuType: s.gpuType,
    gpus: s.gpus,
    ...(s.wallMinutes !== undefined ? { wallMinutes: s.wallMinutes } : {}),
    ...(s.initFrom ? { initializedFrom: s.initFrom } : {}),
  };
}

function cardRecipe(name: string, version: number, spec: RecipeSpec, upTo: number, results: Map<number, CardStage['result']> = new Map()): CardRecipe {
  return {
    name,
    version,
    method: spec.method,
    trainer: spec.trainer,
    ...(spec.notes ? { description: spec.notes } : {}),
    stages: spec.stages.slice(0, upTo + 1).map((s, i) => {
      const r = results.get(i);
      return { ...cardStage(s, i), ...(r ? { result: r } : {}) };
    }),
  };
}

/**
 * The recipe behind a model: the recipe run that trained it when there is one (with each stage's
 * first gate result); otherwise a registered recipe one of whose stages ends exactly where the
 * model is (same RoPE θ and sequence length = its max positions) and whose base model is among its
 * ancestors — how published models such as Gradient's stages are tied to their stage tables.
 */
async function recipeOf(repos: Repositories, m: ModelRecord, ancestors: ReadonlySet<string>) {
  const produced = await repos.recipeRuns.stageOfModel(m.id);
  if (produced) {
    const spec = produced.run.recipe.spec as RecipeSpec;
    const results = new Map<number, CardStage['result']>();
    for (const st of produced.run.stages) {
      const g = st.gates.find((x) => x.value !== null);
      if (g && g.value !== null) results.set(st.index, { label: g.label, value: g.value });
    }
    return { recipe: cardRecipe(produced.run.recipe.name, produced.run.recipe.version, spec, produced.index, results), spec };
  }
  const page = await repos.recipes.list({ limit: 200, offset: 0, includeArchived: false });
  for (const r of page.items) {
    if (!ancestors.has(r.spec.baseModel)) continue;
    const k = r.spec.stages.findIndex((s) => s.ropeTheta === m.ropeTheta && s.seqLength === m.maxPositionEmbeddings);
    if (k >= 0) return { recipe: cardRecipe(r.name, r.version, r.spec, k), spec: r.spec };
  }
  return null;
}

/** The serving section: the publisher's launch when the model carries one, else the smallest tensor-parallel plan that fits one H100 node. */
function servingOf(m: ModelRecord, config: ModelConfig, hfName: string | undefined): CardServing | undefined {
  const modelName = hfName ?? m.name;
  const published = modelServingSchema.safeParse(m.serving);
  if (m.serving && published.success) {
    const s = published.data;
    const gpu = findGpu(s.gpuType);
    if (!gpu) return { gpuType: s.gpuType, tensorParallelSize: s.tensorParallelSize, notes: [`${s.gpuType} is not in the planner's GPU catalogue: no command is drawn`] };
    const { note, gpuType, ...launch } = s;
    const cmd = vllmCommand({ ...launch, model: config, modelName, gpuMemoryGiB: gpu.memoryGiB, maxModelLen: s.maxModelLen ?? config.maxPositionEmbeddings });
    return {
      command: cmd.args,
      env: cmd.env,
      gpuType,
      gpuCount: s.tensorParallelSize,
      tensorParallelSize: s.tensorParallelSize,
      maxModelLen: s.maxModelLen ?? config.maxPositionEmbeddings,
      ...(s.gpuMemoryUtilization !== undefined ? { gpuMemoryUtilization: s.gpuMemoryUtilization } : {}),
      ...(s.maxNumBatchedTokens !== undefined ? { maxNumBatchedTokens: s.maxNumBatchedTokens } : {}),
      ...(s.maxNumSeqs !== undefined ? { maxNumSeqs: s.maxNumSeqs } : {}),
      ...(s.enableChunkedPrefill !== undefined ? { enableChunkedPrefill: s.enableChunkedPrefill } : {}),
      ...(s.enforceEager !== undefined ? { enforceEager: s.enforceEager } : {}),
      ...(s.trustRemoteCode !== undefined ? { trustRemoteCode: s.trustRemoteCode } : {}),
      notes: [note ?? 'The publisher’s launch settings.'],
    };
  }
  const gpu = findGpu(DEFAULT_SERVING_GPU)!;
  const base = { model: config, modelName, gpuMemoryGiB: gpu.memoryGiB, maxModelLen: config.maxPositionEmbeddings };
  const tp = smallestTensorParallelSize(base, 8);
  if (tp === null) return { notes: [`No tensor-parallel size up to 8 × ${gpu.name} holds the weights and one ${config.maxPositionEmbeddings.toLocaleString('en-US')}-token sequence's KV cache: serve it across nodes or at a shorter --max-model-len.`] };
  const cmd = vllmCommand({ ...base, tensorParallelSize: tp });
  return {
    command: cmd.args,
    env: cmd.env,
    gpuType: gpu.name,
    gpuCount: tp,
    tensorParallelSize: tp,
    maxModelLen: config.maxPositionEmbeddings,
    notes: [`Planned by ctxlab's serving planner (the smallest tensor-parallel size on ${gpu.name} that fits one full-length sequence), not a measured launch.`],
  };
}

/** Everything ctxlab knows of a model, as a Hugging Face model card (README.md) and the files beside it (NIAH heatmaps). */
export async function modelCard(repos: Repositories, modelId: string, opts: { mmluRegressionPoints: number }) {
  const m = await repos.models.get(modelId);
  const config = modelConfigOf(m);
  const hfName = hfNameOf(m);
  const lineage = await repos.models.lineage(modelId, 20);
  const related = new Map<string, ModelRecord>();
  const record = async (id: string) => related.get(id) ?? related.set(id, await repos.models.get(id)).get(id)!;
  const parentsOf = (id: string) => lineage.edges.filter((e) => e.childId === id);

  // The nearest ancestor with a Hub id stands in for a parent that lives only in ctxlab (base_model must be a Hub id).
  const hubAncestor = async (id: string, seen = new Set<string>()): Promise<string | undefined> => {
    for (const e of parentsOf(id)) {
      if (seen.has(e.parentId)) continue;
      seen.add(e.parentId);
      const p = await record(e.parentId);
      const n = hfNameOf(p) ?? (await hubAncestor(p.id, seen));
      if (n) return n;
    }
    return undefined;
  };
  const relative = async (id: string, kind: CardRelative['relation'], note: string | null): Promise<CardRelative> => {
    const r = await record(id);
    const hf = hfNameOf(r);
    const anc = hf ? undefined : await hubAncestor(id);
    return { name: r.name, relation: kind, ...(hf ? { hfName: hf } : {}), ...(anc ? { hubAncestor: anc } : {}), ...(note ? { note } : {}) };
  };
  const parents = await Promise.all(parentsOf(modelId).map((e) => relative(e.parentId, e.kind, e.note)));
  const children = await Promise.all(lineage.edges.filter((e) => e.parentId === modelId).map((e) => relative(e.childId, e.kind, e.note)));
  const ancestors = new Set(lineage.nodes.filter((n) => n.relation === 'ancestor').map((n) => n.name));

  const [adapters, recipe, card, runs] = await Promise.all([
    repos.adapters.list({ modelId, limit: 50, offset: 0, includeArchived: false }),
    recipeOf(repos, m, ancestors),
    scorecard(repos, modelId, { mmluRegressionPoints: opts.mmluRegressionPoints }),
    repos.evals.finishedRunsOf(modelId, 50),
  ]);

  const evaluations: CardEvaluation[] = card.rows
    .filter((r) => r.model.value !== null)
    .map((r) => ({
      suite: r.suite,
      label: r.label,
      metric: r.unit === 'score' ? 'score' : r.unit,
      value: round(r.model.value!, r.unit),
      unit: r.unit,
      source: { runId: r.model.runId, name: r.model.runName },
    }));
  const heatmaps: CardHeatmap[] = [];
  for (const run of runs.filter((r) => r.kind === 'niah').slice(0, HEATMAPS)) {
    const { grid: _g, ...data } = await runHeatmap(repos, run);
    if (data.scored > 0) heatmaps.push({ title: `NIAH · ${run.name}`, data, slug: run.id });
  }
  const hub = m.hub as { weights?: { params?: number } } | null;
  const input: ModelCardInput = {
    name: m.name,
    ...(m.displayName ? { displayName: m.displayName } : {}),
    ...(m.description ? { description: m.description } : {}),
    ...(m.family ? { family: m.family } : {}),
    ...(hfName ? { hfName } : {}),
    ...(m.license ? { license: m.license } : {}),
    tags: m.tags,
    createdAt: m.createdAt,
    config,
    ...(typeof hub?.weights?.params === 'number' ? { parameterCount: hub.weights.params } : {}),
    parents,
    children,
    adapters: await Promise.all(
      adapters.items
        .filter((a) => a.sourceModelId === modelId)
        .map(async (a) => ({ name: a.name, rank: a.rank, alpha: a.alpha, targetModules: a.targetModules, base: (await record(a.baseModelId)).name, direction: 'extracted-from' as const })),
    ),
    ...(recipe ? { recipe: recipe.recipe } : {}),
    ...(recipe?.spec.dataMix.length ? { trainingData: recipe.spec.dataMix.map((d) => ({ name: d.name, ...(d.samples ? { samples: d.samples } : {}), ...(d.description ? { note: d.description } : {}) })) } : {}),
    evaluations,
    heatmaps,
    ...(card.against ? { scorecard: { against: card.against.name, method: card.method.text, rows: card.rows.map((r) => ({
            label: r.label,
            model: r.model.value === null ? null : round(r.model.value, r.unit),
            parent: r.against?.value == null ? null : round(r.against.value, r.unit),
            difference: r.difference === null ? null : round(r.difference, r.unit),
            interval: r.interval ? { low: round(r.interval.low, r.unit), high: round(r.interval.high, r.unit) } : null,
            verdict: r.verdict,
            flag: r.flag,
            unit: r.unit,
          })) } } : {}),
  };
  const serving = servingOf(m, config, hfName);
  if (serving) input.serving = serving;
  return { model: { id: m.id, name: m.name }, ...renderModelCard(input) };
}

/** An adapter's card: PEFT metadata, how to load and serve it, and the model it was extracted from. */
export async function adapterCard(repos: Repositories, adapterId: string) {
  const a = await repos.adapters.get(adapterId);
  const base = await repos.models.get(a.baseModelId);
  const source = a.sourceModelId ? await repos.models.get(a.sourceModelId) : null;
  const baseHf = hfNameOf(base);
  const sourceHf = source ? hfNameOf(source) : undefined;
  const rendered = renderAdapterCard({
    name: a.name,
    ...(a.description ? { description: a.description } : {}),
    tags: a.tags,
    ...(base.license ? { license: base.license } : {}),
    createdAt: a.createdAt,
    base: { name: base.name, ...(baseHf ? { hfName: baseHf } : {}) },
    rank: a.rank,
    alpha: a.alpha,
    targetModules: a.targetModules,
    ...(a.sizeBytes !== null ? { sizeBytes: Number(a.sizeBytes) } : {}),
    ...(source ? { extractedFrom: { name: source.name, ...(sourceHf ? { hfName: sourceHf } : {}) } } : {}),
    // An adapter extracted from a long-context model only works with that model's RoPE settings.
    ...(source && (source.ropeTheta !== base.ropeTheta || source.maxPositionEmbeddings !== base.maxPositionEmbeddings)
      ? { baseOverrides: { ropeTheta: source.ropeTheta, maxPositionEmbeddings: source.maxPositionEmbeddings } }
      : {}),
  });
  return { adapter: { id: a.id, name: a.name }, ...rendered };
}
