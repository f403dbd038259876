import { loraSpecSchema, modelConfigSchema, positiveInt, recipeStageSchema, type RecipeSpec } from '@ctxlab/contracts';
import { z } from 'zod';
import { DispatchError } from './errors';
import { specEnvIssues } from './policy/env';
import { parseUri } from './uri';

/**
 * Job specs: what one GPU job does, validated at the boundary. A spec is complete — renderers add
 * nothing but tool conventions — so the same spec always renders the same command.
 */

/**
 * The mergekit release the lora-extract / lora-merge commands are written against. Its
 * `mergekit-extract-lora` takes named options (`--model FINETUNED --base-model BASE --out-path OUT
 * --max-rank R`, click options in mergekit/scripts/extract_lora.py since the 0.1 rewrite); releases
 * before 0.1.0 took positionals (`FINETUNED BASE OUT --rank=R`) and are refused.
 */
export const MERGEKIT_VERSION = '0.1.4';

export const artifactUriSchema = z
  .string()
  .trim()
  .superRefine((uri, ctx) => {
    try {
      parseUri(uri);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message });
    }
  });
/** Outputs go to storage the job can write: a local/mounted path or an object-store prefix. */
export const outputUriSchema = artifactUriSchema.refine((u) => !u.startsWith('hf://'), 'outputs are written to file:// or s3:// locations, not to the Hub');

const mergekitVersionSchema = z
  .string()
  .regex(/^\d+\.\d+\.\d+$/, 'must be a release number like 0.1.4')
  .refine((v) => {
    const [major = 0, minor = 0] = v.split('.').map(Number);
    return major > 0 || minor >= 1;
  }, 'mergekit before 0.1.0 takes positional arguments (FINETUNED BASE OUT --rank=R); ctxlab renders the 0.1.x options')
  .default(MERGEKIT_VERSION);

/**
 * A word a renderer puts on a command line as an option's value. It starts with a letter or digit,
 * so it can never be read as a flag ("--trust-remote-code"), and holds no spaces or control
 * characters, so it stays one word in `sh -c` scripts and log lines.
 */
const optionWord = (what: string, extra = '') =>
  z
    .string()
    .trim()
    .max(200)
    .regex(new RegExp(`^[A-Za-z0-9][A-Za-z0-9._${extra}-]*$`), `${what}: letters, digits, "."${extra ? `, ${[...extra].map((c) => `"${c}"`).join(', ')}` : ''}, "_" and "-", starting with a letter or digit`);
/** A GPU type as the catalog and node labels name it (h100-sxm-80gb, L40S, A800-80G). */
const gpuTypeSchema = optionWord('a GPU type');
/** A module or parameter name of a PyTorch model (embed_tokens, model.norm, lm_head). */
const moduleNameSchema = z.string().trim().regex(/^[A-Za-z_][A-Za-z0-9_.]{0,199}$/, 'a module name: letters, digits, "_" and "."');
/** Host a server binds: a name or an IPv4/IPv6 address, never a flag. */
const hostSchema = z
  .string()
  .trim()
  .max(253)
  .regex(/^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|[0-9A-Fa-f]*:[0-9A-Fa-f:.]*)$/, 'must be a host name or an IP address (0.0.0.0, 127.0.0.1, ::)');

// ---------------------------------------------------------------------------------------------

export const trainerSchema = z.enum(['easycontext', 'qlora', 'lab']);
export type Trainer = z.infer<typeof trainerSchema>;

/**
 * One training stage. `easycontext`: full fine-tuning with EasyContext's train.py under
 * `accelerate launch` + DeepSpeed ZeRO-3 (sequence parallel: `stage.batchSize` is the batch of
 * whole sequences the GPUs share). `qlora`: BAAI's longllm_qlora trainer (torchrun, data parallel:
 * `stage.batchSize` is the global batch, split across GPUs). `lab`: ctxlab's lab-model trainer
 * (tools/lab-model/train.py), continued training of a lab model at the stage's length and theta
 * on its built-in haystack corpus: on a laptop's CPU, or one GPU with `device: "cuda"`.
 */
export const trainSpecSchema = z
  .object({
    kind: z.literal('train'),
    trainer: trainerSchema,
    /** Weights the stage starts from (the base model, or the previous stage's output). */
    model: artifactUriSchema,
    /** EasyContext: exactly one pre-tokenised dataset (column input_ids). qlora: one or more JSON files. lab: none (its corpus is built in). */
    datasets: z.array(artifactUriSchema).default([]),
    output: outputUriSchema,
    stage: recipeStageSchema,
    lora: loraSpecSchema.optional(),
    seed: z.number().int().nonnegative().default(42),
    /** GPUs per machine; stages with more GPUs run on gpus / gpusPerNode machines. */
    gpusPerNode: positiveInt.default(8),
    /** EasyContext: offload parameters and optimizer state to CPU, as EasyContext's zero3_offload.json does. */
    offload: z.boolean().default(true),
    /** qlora: the chat template name the trainer formats samples with. */
    chatTemplate: optionWord('a chat template name').default('llama-3'),
    /** lab: where it trains. */
    device: z.enum(['cpu', 'cuda']).default('cpu'),
  })
  .superRefine((s, ctx) => {
    const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
    const { gpus } = s.stage;
    // Contract fields that reach the command line (--lora_extra_params, node selectors) keep to option words here.
    if (!gpuTypeSchema.safeParse(s.stage.gpuType).success) issue(['stage', 'gpuType'], 'a GPU type: letters, digits, ".", "_" and "-", starting with a letter or digit');
    s.lora?.extraTrainedParameters.forEach((p, i) => {
      if (!moduleNameSchema.safeParse(p).success) issue(['lora', 'extraTrainedParameters', i], `"${p}" is not a module name: letters, digits, "_" and "."`);
    });
    if (gpus > s.gpusPerNode && gpus % s.gpusPerNode !== 0) {
      issue(['stage', 'gpus'], `${gpus} GPUs do not fill whole machines of ${s.gpusPerNode} (gpusPerNode)`);
    }
    if (s.trainer === 'lab') {
      if (s.datasets.length > 0) issue(['datasets'], 'the lab trainer reads its built-in haystack corpus; it takes no datasets');
      if (s.lora) issue(['lora'], 'the lab trainer trains all weights; it has no LoRA mode');
      if (s.stage.seqLength > 65_536) issue(['stage', 'seqLength'], `the lab model trains on byte sequences of at most 65,536; got ${s.stage.seqLength}`);
      return;
    }
    if (s.datasets.length === 0) issue(['datasets'], 'must name at least one dataset');
    if (s.trainer === 'easycontext') {
      if (s.datasets.length !== 1) issue(['datasets'], `EasyContext's train.py reads one dataset (--dataset); got ${s.datasets.length}`);
      if (s.lora) issue(['lora'], 'EasyContext trains all weights; use trainer "qlora" for a LoRA stage');
    } else {
      if (!s.lora) issue(['lora'], 'a qlora stage needs a lora section (rank, alpha, targetModules)');
      if (s.stage.batchSize % gpus !== 0) {
        issue(['stage', 'batchSize'], `batchSize ${s.stage.batchSize} is not a multiple of the ${gpus} GPUs: data-parallel QLoRA splits the batch evenly across GPUs`);
      }
    }
  });
export type TrainSpec = z.infer<typeof trainSpecSchema>;
export type TrainSpecInput = z.input<typeof trainSpecSchema>;

/** The two LoRA jobs' tools: mergekit for Hugging Face models, `lab` (tools/lab-model/lora.py) for lab models. */
const loraToolSchema = z.enum(['mergekit', 'lab']).default('mergekit');
/** Where the two LoRA jobs run their arithmetic, and the mergekit that does it. */
const loraArithmetic = {
  /** Run the arithmetic on one GPU (--cuda). */
  cuda: z.boolean().default(true),
  /** GPU type to schedule on when cuda is set; omitted = any GPU. */
  gpuType: gpuTypeSchema.optional(),
  mergekitVersion: mergekitVersionSchema,
};

/** SVD-extract the difference between a fine-tuned model and its base as a LoRA adapter (mergekit-extract-lora). */
export const loraExtractSpecSchema = z.object({
  kind: z.literal('lora-extract'),
  /** mergekit for Hugging Face models; `lab` for lab models (tools/lab-model/lora.py, the same SVD extraction). */
  tool: loraToolSchema,
  finetuned: artifactUriSchema,
  base: artifactUriSchema,
  output: outputUriSchema,
  maxRank: positiveInt,
  /** Decompose embeddings into LoRA too (default: mergekit saves them at full rank in modules_to_save). */
  embedLora: z.boolean().default(false),
  /** Modules saved at full rank (--save-module, repeated). */
  saveModules: z.array(moduleNameSchema).default([]),
  ...loraArithmetic,
});
export type LoraExtractSpec = z.infer<typeof loraExtractSpecSchema>;

/**
 * Merge a LoRA into a target model (mergekit-yaml, `TARGET+LORA`, passthrough), then write the
 * source long-context model's RoPE fields into the merged config.json — the adapter carries weight
 * deltas only, so without this the merged model keeps the target's short-context config.
 */
export const loraMergeSpecSchema = z.object({
  kind: z.literal('lora-merge'),
  /** mergekit for Hugging Face models; `lab` for lab models (tools/lab-model/lora.py: W + B·A, then the same config patch). */
  tool: loraToolSchema,
  target: artifactUriSchema,
  lora: artifactUriSchema,
  output: outputUriSchema,
  /** --lora-merge-cache; default a lora-merge-cache directory in the job's working directory. */
  cache: outputUriSchema.optional(),
  /** The source long-context model's rope_theta. */
  ropeTheta: z.number().positive('must be positive'),
  /** The source long-context model's max_position_embeddings. */
  maxPositionEmbeddings: positiveInt,
  /** rope_scaling to write (the source model's; null for Llama-3 theta-scaled models). */
  ropeScaling: z.record(z.string(), z.unknown()).nullable().default(null),
  dtype: z.enum(['bfloat16', 'float16', 'float32']).default('bfloat16'),
  ...loraArithmetic,
});
export type LoraMergeSpec = z.infer<typeof loraMergeSpecSchema>;

/** vLLM's OpenAI-compatible server for one model; GPUs = tensorParallelSize. */
export const serveSpecSchema = z.object({
  kind: z.literal('serve'),
  /** vLLM on GPUs; `lab`: ctxlab's onnxruntime model server (apps/model-server) for a lab model, on CPU. */
  engine: z.enum(['vllm', 'lab']).default('vllm'),
  model: artifactUriSchema,
  /** Name clients use in requests (--served-model-name). */
  servedName: z
    .string()
    .trim()
    .max(200)
    .regex(/^[A-Za-z0-9][A-Za-z0-9._/:-]*$/, 'may contain letters, digits, ".", "_", "/", ":" and "-"'),
  /** The model's architecture as the planner needs it (from its config.json). */
  modelConfig: modelConfigSchema,
  /** GPU type (vLLM: required; the planner sizes the KV cache from its memory). */
  gpuType: gpuTypeSchema.optional(),
  /** Total memory of one GPU as the driver reports it, GiB; default from the GPU catalog. */
  gpuMemoryGiB: z.number().positive().optional(),
  tensorParallelSize: positiveInt.default(1),
  gpuMemoryUtilization: z.number().gt(0).lte(1).default(0.9),
  maxModelLen: positiveInt,
  kvCacheDtype: z.enum(['auto', 'bf16', 'fp8']).default('auto'),
  /** Ports below 1024 are the host's own services (a local job runs with the worker's privileges). */
  port: z.number().int().min(1024, 'must be 1024–65535: lower ports belong to the host\'s own services').max(65535).default(8000),
  host: hostSchema.default('0.0.0.0'),
  maxNumBatchedTokens: positiveInt.optional(),
  maxNumSeqs: positiveInt.optional(),
  enableChunkedPrefill: z.boolean().optional(),
  enforceEager: z.boolean().default(false),
  trustRemoteCode: z.boolean().default(false),
  /** RoPE base to serve with when it differs from modelConfig.ropeTheta (rendered as --hf-overrides). */
  ropeTheta: z.number().positive().optional(),
  /** Tuning variables for the server: only those policy/env.ts lists for the engine, with values it accepts. */
  env: z.record(z.string(), z.string()).refine((e) => Object.keys(e).length <= 32, 'at most 32 variables').default({}),
  /** `vllm serve MODEL` or `python -m vllm.entrypoints.openai.api_server --model MODEL`. */
  entrypoint: z.enum(['vllm-serve', 'api-server']).default('vllm-serve'),
}).superRefine((s, ctx) => {
  for (const i of specEnvIssues(s.engine === 'lab' ? 'lab-server' : 'vllm', s.env)) ctx.addIssue({ code: 'custom', path: ['env', i.name], message: i.message });
});
export type ServeSpec = z.infer<typeof serveSpecSchema>;

export const jobSpecSchema = z.discriminatedUnion('kind', [trainSpecSchema, loraExtractSpecSchema, loraMergeSpecSchema, serveSpecSchema]);
export type JobSpec = z.infer<typeof jobSpecSchema>;
export type JobSpecInput = z.input<typeof jobSpecSchema>;
export type JobKind = JobSpec['kind'];

/** Parses a job spec; a bad one throws INVALID_SPEC naming every field at fault (the first in `field`). */
export function parseJobSpec(input: unknown): JobSpec {
  const r = jobSpecSchema.safeParse(input);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
  const text = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
  throw new DispatchError('INVALID_SPEC', `invalid job spec: ${text}`, issues[0]?.path || undefined);
}

/**
 * The train spec for one stage of a recipe. The caller supplies where weights and data are and
 * where the output goes (stage n's `model` is normally stage n−1's `output`).
 */
export function trainSpecFromRecipe(
  recipe: RecipeSpec,
  stageIndex: number,
  io: { model: string; datasets: string[]; output: string; seed?: number; gpusPerNode?: number },
): TrainSpecInput {
  const stage = recipe.stages[stageIndex];
  if (!stage) throw new DispatchError('INVALID_SPEC', `the recipe has ${recipe.stages.length} stages; there is no stage ${stageIndex + 1}`, 'stageIndex');
  if (recipe.trainer === 'custom') throw new DispatchError('UNSUPPORTED', 'a recipe with trainer "custom" has no command ctxlab can render', 'trainer');
  return {
    kind: 'train',
    trainer: recipe.trainer,
    model: io.model,
    datasets: io.datasets,
    output: io.output,
    stage,
    ...(recipe.trainer === 'qlora' && recipe.lora ? { lora: recipe.lora } : {}),
    ...(io.seed !== undefined ? { seed: io.seed } : {}),
    ...(io.gpusPerNode !== undefined ? { gpusPerNode: io.gpusPerNode } : {}),
  };
}
