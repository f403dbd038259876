/**
 * The planner as the API offers it: resolves registry models to configs and calls libs/longctx.
 * Numbers are computed on request (they are cheap: well under a millisecond each).
 */
import { badRequest, type ModelConfig, type ModelRef, type RecipeSpec } from '@ctxlab/contracts';
import { modelConfigOf, type Repositories } from '@ctxlab/db';
import {
  DEFAULT_MFU,
  criticalDimSupportedLength,
  kvBytesPerToken,
  paramCount,
  planRecipe,
  weightBytes,
  type RecipePlan,
} from '@ctxlab/longctx';

/** Re-exported where plans are made: see longctx's budget. */
export { DEFAULT_MFU };

export async function resolveModel(repos: Repositories, ref: ModelRef): Promise<{ name: string; config: ModelConfig }> {
  if ('config' in ref) return { name: 'custom', config: ref.config };
  const m = 'modelId' in ref ? await repos.models.get(ref.modelId) : await repos.models.getByName(ref.modelName);
  if (!m) throw badRequest(`model.modelName: no model named ${(ref as { modelName: string }).modelName}`, 'model.modelName');
  return { name: m.name, config: modelConfigOf(m) };
}

/**
 * What the planner derives from a model's config, shown with the model. `pretrained` is the
 * root ancestor's (θ0, L0): the critical-dimension rule measures every later theta against the
 * base and length the model was pre-trained with.
 */
export function modelFacts(c: ModelConfig, pretrained: { ropeTheta: number; maxPositionEmbeddings: number; name: string } = { ...c, name: 'itself' }) {
  const params = paramCount(c);
  return {
    parameters: params.total,
    weightBytes: weightBytes(c, c.dtype),
    kvBytesPerToken: { bf16: kvBytesPerToken(c, 'bf16'), fp8: kvBytesPerToken(c, 'fp8') },
    /** Longest context the RoPE base supports under the critical-dimension rule (Liu et al. 2023). */
    longestContextForTheta: criticalDimSupportedLength({
      theta0: pretrained.ropeTheta,
      headDim: c.headDim,
      originalLength: pretrained.maxPositionEmbeddings,
      theta: c.ropeTheta,
    }),
    pretrainedFrom: { name: pretrained.name, ropeTheta: pretrained.ropeTheta, maxPositionEmbeddings: pretrained.maxPositionEmbeddings },
  };
}

/** A registry model with its derived facts, measured against its root ancestor. */
export async function modelDetail(repos: Repositories, id: string) {
  const m = await repos.models.get(id);
  const g = await repos.models.lineage(id);
  const rootNode = g.nodes.reduce((a, b) => (b.level < a.level ? b : a));
  const root = rootNode.id === m.id ? m : await repos.models.get(rootNode.id);
  return { ...m, derived: modelFacts(modelConfigOf(m), root) };
}

/**
 * A recipe's plan against its base model from the registry; null (with the reason) when the
 * base model is not registered, since the arithmetic needs its architecture.
 */
export async function recipePlanFor(
  repos: Repositories,
  spec: RecipeSpec,
  opts: { mfu?: number; gpu?: string | undefined; model?: ModelConfig; trainedTokens?: (number | null)[] | undefined },
): Promise<{ plan: RecipePlan | null; mfu: number; reason?: string }> {
  const mfu = opts.mfu ?? DEFAULT_MFU;
  const config = opts.model ?? (await repos.models.getByName(spec.baseModel).then((m) => (m ? modelConfigOf(m) : null)));
  if (!config) return { plan: null, mfu, reason: `base model ${spec.baseModel} is not in the registry` };
  return { plan: planRecipe(spec, config, { mfu, ...(opts.gpu ? { gpu: opts.gpu } : {}), ...(opts.trainedTokens ? { trainedTokens: opts.trainedTokens } : {}) }), mfu };
}
