import { z } from 'zod';
import { idSchema, nameSchema, positiveInt, text } from './common';
import { niahTokenizerSchema } from './niah';

/**
 * Training data preparation: registered datasets (an imported corpus, or a dataset whose URI holds a
 * folder of text files, a JSONL of texts or a chat JSONL) tokenised, up-sampled by length, mixed and
 * packed into the shards a trainer loads unchanged (libs/dataprep).
 */

/** The shard formats: EasyContext's train.py (records of input_ids) and longllm_qlora's --train_data JSONL. */
export const PREPARE_FORMATS = ['easycontext', 'longllm-qlora'] as const;
export const prepareFormatSchema = z.enum(PREPARE_FORMATS);
export type PrepareFormat = z.infer<typeof prepareFormatSchema>;

/** How a source's files read: a folder of text files, JSON Lines with a text field, JSON Lines of chats. */
export const prepareSourceKindSchema = z.enum(['text-folder', 'jsonl', 'chat-jsonl']);
export type PrepareSourceKind = z.infer<typeof prepareSourceKindSchema>;

export const prepareSourceSchema = z.object({
  /** A registered dataset, by name or id. */
  dataset: text().trim().min(1, 'name a registered dataset').max(200),
  /** Default: an imported corpus reads as a text folder; a URI ending .jsonl as JSONL; any other as a text folder. */
  kind: prepareSourceKindSchema.optional(),
  /** The JSONL field holding the text (default "text") or the messages (default "messages"). */
  field: text().trim().min(1).max(100).optional(),
  /** The source's share of the output tokens; give it for every source or for none. */
  ratio: z.number().gt(0, 'a ratio is a share above 0').max(1, 'a ratio is a share of at most 1').optional(),
  /** Fu et al. 2024: documents under thresholdTokens are kept with probability keepShort (0.1 in their setup); long ones always. */
  lengthUpsample: z.object({ thresholdTokens: positiveInt.default(4096), keepShort: z.number().min(0).max(1) }).optional(),
});
export type PrepareSource = z.infer<typeof prepareSourceSchema>;

/** A stage's data recipe: its sources and their shares, and how they are packed. */
export const dataRecipeSchema = z.object({
  sources: z.array(prepareSourceSchema).min(1, 'name at least one source dataset').max(32),
  format: prepareFormatSchema.default('easycontext'),
  /** pack: documents joined into one stream cut into sequences; chunk: each document cut alone (EasyContext only). */
  packing: z.enum(['pack', 'chunk']).default('pack'),
  /** Also write a loss mask (1 = assistant token) for chat sources (EasyContext only). */
  lossMask: z.boolean().default(false),
  /** Stop reading the sources once this many tokens were taken from them (sources with ratios are read again until then); whole sequences are written. */
  maxTokens: positiveInt.optional(),
  seed: z.number().int().min(0).max(2 ** 32 - 1).default(42),
});
export type DataRecipe = z.infer<typeof dataRecipeSchema>;

const checkRatios = (sources: readonly PrepareSource[], ctx: z.RefinementCtx, at: (string | number)[]) => {
  const given = sources.filter((s) => s.ratio !== undefined);
  if (given.length === 0) return;
  const missing = sources.findIndex((s) => s.ratio === undefined);
  if (missing >= 0) {
    ctx.addIssue({ code: 'custom', path: [...at, missing, 'ratio'], message: 'give a ratio for every source or for none' });
    return;
  }
  const sum = given.reduce((a, s) => a + s.ratio!, 0);
  if (Math.abs(sum - 1) > 1e-6) ctx.addIssue({ code: 'custom', path: at, message: `ratios sum to ${Number(sum.toFixed(9))}; they must sum to 1` });
};

export const checkedDataRecipeSchema = dataRecipeSchema.superRefine((r, ctx) => checkRatios(r.sources, ctx, ['sources']));

/**
 * datasets.prepare: a data recipe (given here, or a recipe stage's `data`) made into a registered
 * training dataset. The sequence length is the stage's when a stage is named.
 */
export const datasetPrepareInput = z
  .object({
    name: nameSchema,
    description: text().max(2000).optional(),
    tokenizer: niahTokenizerSchema.default('llama3'),
    /** A recipe stage (1-based) whose data recipe and sequence length to prepare. */
    recipeId: idSchema.optional(),
    stage: z.number().int().min(1, 'stages count from 1').max(64).optional(),
    seqLength: z.number().int().min(16, 'at least 16 tokens').max(2 ** 24, 'at most 16,777,216 tokens').optional(),
    data: dataRecipeSchema.optional(),
    /** Where the shards go (file:///… under the artifact root, or s3://…); default datasets/<name> in the artifact store. */
    output: text().trim().min(1).max(2000).optional(),
    maxShardBytes: z.number().int().min(2 ** 16).max(2 ** 34).optional(),
  })
  .superRefine((v, ctx) => {
    if ((v.recipeId === undefined) !== (v.stage === undefined)) ctx.addIssue({ code: 'custom', path: [v.recipeId === undefined ? 'recipeId' : 'stage'], message: 'a recipe stage needs both recipeId and stage' });
    if (v.recipeId === undefined && !v.data) ctx.addIssue({ code: 'custom', path: ['data'], message: 'give the data recipe (sources, format), or a recipe stage that has one' });
    if (v.recipeId === undefined && v.seqLength === undefined) ctx.addIssue({ code: 'custom', path: ['seqLength'], message: 'give the sequence length, or a recipe stage' });
    if (v.data) checkRatios(v.data.sources, ctx, ['data', 'sources']);
  });
export type DatasetPrepareInput = z.infer<typeof datasetPrepareInput>;
