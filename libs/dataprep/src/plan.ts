import { z } from 'zod';
import { DataprepError, fieldPath } from './errors';

/**
 * Fu et al. 2024 (FranxYao/Long-Context-Data-Engineering, data_engineering/slimpajama_packing.py @
 * a8385dbb81e597f3a1525990291c685731215309, `--down_sample_mode per_source`): within each source,
 * documents shorter than 4096 tokens are kept with probability `--down_sample_ratio` (0.1 in their
 * README) and longer ones always, while every source keeps its share of the output tokens. Keeping
 * short documents rarely is the same as up-sampling long ones, which is the paper's point.
 */
export const lengthUpsampleSchema = z.strictObject({
  /** Documents with fewer tokens than this are "short". Fu et al.: 4096. */
  thresholdTokens: z.int().positive().default(4096),
  /** Probability that a short document is kept (long ones always are). Fu et al.: 0.1. */
  keepShort: z.number().min(0).max(1),
});

const sourceName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'use letters, digits, "_", "." or "-" (at most 64, starting with a letter or digit)');

const sourceCommon = {
  /** Names the source in stats and the manifest; unique within a plan. */
  name: sourceName,
  path: z.string().min(1),
  /** This source's share of the output tokens. Give it for every source or for none. */
  ratio: z.number().gt(0).lte(1).optional(),
  lengthUpsample: lengthUpsampleSchema.optional(),
};

export const sourceSpecSchema = z.discriminatedUnion('kind', [
  /** A folder of text files, each file one document, read recursively in path order. */
  z.strictObject({ kind: z.literal('text-folder'), ...sourceCommon, extensions: z.array(z.string().regex(/^\.[A-Za-z0-9]+$/, 'an extension such as ".txt"')).min(1).default(['.txt', '.md']) }),
  /** JSON Lines, one document a line, its text in `field`. */
  z.strictObject({ kind: z.literal('jsonl'), ...sourceCommon, field: z.string().min(1).default('text') }),
  /** JSON Lines of chats (OpenAI / UltraChat style): `field` holds [{ role, content }, …]. */
  z.strictObject({ kind: z.literal('chat-jsonl'), ...sourceCommon, field: z.string().min(1).default('messages') }),
]);

const planCommon = {
  /**
   * Tokens the model sees per training sequence. EasyContext: its `--seq-length`; each record then
   * holds seqLength + 1 tokens (see EASYCONTEXT in formats.ts). longllm_qlora: its `--max_length`.
   */
  seqLength: z.int().min(16).max(2 ** 24),
  sources: z.array(sourceSpecSchema).min(1),
  /**
   * Stop after this many output tokens. With ratios, a source that runs out first is read again
   * (another epoch) until then; without maxTokens, output stops when the first source runs out,
   * so the mixture holds and no document repeats.
   */
  maxTokens: z.int().positive().optional(),
  /** Seeds the up-sampling draws (EasyContext's train.py defaults its own --seed to 42 too). */
  seed: z.int().min(0).max(2 ** 32 - 1).default(42),
  /** A shard is closed before it would pass this size (a single larger record gets a shard alone). */
  maxShardBytes: z.int().min(2 ** 16).default(512 * 2 ** 20),
};

export const preparePlanSchema = z
  .discriminatedUnion('format', [
    z.strictObject({
      format: z.literal('easycontext'),
      ...planCommon,
      /** pack: documents joined into one token stream and cut into records; chunk: each document cut alone, its remainder dropped. */
      packing: z.enum(['pack', 'chunk']).default('pack'),
      /** Also write `loss_mask` (1 = assistant token). Upstream train.py drops every column but input_ids. */
      lossMask: z.boolean().default(false),
    }),
    z.strictObject({ format: z.literal('longllm-qlora'), ...planCommon }),
  ])
  .superRefine((plan, ctx) => {
    const seen = new Map<string, number>();
    plan.sources.forEach((s, i) => {
      const first = seen.get(s.name);
      if (first !== undefined) ctx.addIssue({ code: 'custom', path: ['sources', i, 'name'], message: `"${s.name}" is already the name of sources[${first}]` });
      else seen.set(s.name, i);
    });
    const withRatio = plan.sources.filter((s) => s.ratio !== undefined);
    if (withRatio.length === 0) return;
    const missing = plan.sources.findIndex((s) => s.ratio === undefined);
    if (missing >= 0) {
      ctx.addIssue({ code: 'custom', path: ['sources', missing, 'ratio'], message: 'missing: give a ratio for every source or for none' });
      return;
    }
    const sum = withRatio.reduce((a, s) => a + s.ratio!, 0);
    if (Math.abs(sum - 1) > 1e-6) {
      const parts = plan.sources.map((s) => `${s.name} ${s.ratio}`).join(', ');
      ctx.addIssue({ code: 'custom', path: ['sources'], message: `ratios sum to ${Number(sum.toFixed(9))} (${parts}); they must sum to 1` });
    }
  });

export type PreparePlanInput = z.input<typeof preparePlanSchema>;
export type PreparePlan = z.output<typeof preparePlanSchema>;
export type SourceSpec = PreparePlan['sources'][number];
export type LengthUpsample = z.output<typeof lengthUpsampleSchema>;

/** The plan with defaults filled in, or a DataprepError naming every wrong field. */
export function parsePlan(input: unknown): PreparePlan {
  const parsed = preparePlanSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => ({ field: fieldPath(i.path) || 'plan', message: i.message }));
  throw new DataprepError('INVALID_PLAN', `invalid plan: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`, { field: issues[0]!.field });
}
