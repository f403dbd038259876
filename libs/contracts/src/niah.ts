import { z } from 'zod';
import { contextLength, idSchema, nonNegativeInt, positiveInt, text } from './common';

/**
 * NIAH (needle in a haystack) evaluation spec, shared by the CLI, the API, the jobs worker and
 * the engine in libs/niah. Depths are fractions in [0, 1] (the field's "depth percent" / 100);
 * lengths count the model's FINAL prompt tokens (chat template, system, context, question).
 */

export const niahVariantSchema = z.enum([
  /** gkamradt's original: the San Francisco sandwich needle. English. */
  'original',
  /** "The special magic {city} number is: {n}" (Arize/Gradient/360Zhinao value retrieval). en or zh. */
  'value',
  /** 360Zhinao's Chinese variant: a short story where 王莽 works for 刘秀. */
  'zh-story',
  /** gkamradt's multi-needle: k facts spread from the depth to the end, one question about all. */
  'multi-needle',
  /** RULER niah_multikey: k keys with one value each, one key asked. */
  'multi-key',
  /** RULER niah_multivalue: one key with k values, all asked. */
  'multi-value',
  /** RULER niah_multiquery: k keys, `queries` of them asked at once. */
  'multi-query',
  /** Negative control: a value-retrieval question with no needle; the right answer is that there is none. */
  'negative',
  /** User-supplied needle, question, instruction and expected strings. */
  'custom',
]);
export type NiahVariant = z.infer<typeof niahVariantSchema>;

export const niahLanguageSchema = z.enum(['en', 'zh']);
export type NiahLanguage = z.infer<typeof niahLanguageSchema>;

/** The scorers a needle's answer may be judged by, each with what it does. */
export const NIAH_SCORERS = {
  'zhinao-en': '360Zhinao English: 100 if /sandwich.+?dolores.+?sunny/ (no newline crossing), else whitespace-free Levenshtein similarity.',
  'zhinao-zh': '360Zhinao Chinese: 100 if 刘秀 appears, else character-level F1 against 王莽在刘秀的手下工作。',
  value: '100 if every expected value appears in the answer, else 0.',
  'string-match-all': 'RULER string_match_all: 100 × share of expected strings present (case-insensitive).',
  'string-match-part': 'RULER string_match_part: 100 if any expected string is present (case-insensitive).',
  exact: '100 if the trimmed answer equals an expected string exactly.',
  negative: 'Negative control: 100 if the answer names none of the forbidden values and no made-up number.',
} as const;
export type NiahScorerName = keyof typeof NIAH_SCORERS;
export const niahScorerSchema = z.enum(Object.keys(NIAH_SCORERS) as [NiahScorerName, ...NiahScorerName[]]);

/** Built-in tokenizers by name (libs/tokenizers' TOKENIZER_NAMES). */
export const NIAH_BUILTIN_TOKENIZERS = ['llama3', 'byte', 'llama2', 'qwen2.5'] as const;
const builtinTokenizerSchema = z.enum(NIAH_BUILTIN_TOKENIZERS);
const hfTokenizerSchema = z
  .string()
  .regex(/^hf:\/\S.*$/, 'a Hugging Face tokenizer is "hf:" followed by the absolute path of a directory holding tokenizer.json');
/** A built-in tokenizer name, or hf:/absolute/directory holding a Hugging Face tokenizer.json. */
export const niahTokenizerSchema = z.union([builtinTokenizerSchema, hfTokenizerSchema], {
  error: (issue) =>
    issue.code === 'invalid_union'
      ? `unknown tokenizer: use one of ${NIAH_BUILTIN_TOKENIZERS.join(', ')}, or hf:/absolute/directory holding a Hugging Face tokenizer.json`
      : undefined,
});

/** Values an axis may have: a grid is at most this many lengths (and as many depths). */
export const MAX_AXIS_VALUES = 1000;
const axisMessage = `an axis has at most ${MAX_AXIS_VALUES.toLocaleString('en-US')} values`;
const depth = z.number().min(0, 'a depth is a fraction from 0 to 1').max(1, 'a depth is a fraction from 0 to 1');

export const niahLengthAxisSchema = z.discriminatedUnion('kind', [
  /** numpy: round(linspace(min, max, count)), half to even — the original harness' axis. */
  z.object({ kind: z.literal('linspace'), min: contextLength, max: contextLength, count: positiveInt.max(MAX_AXIS_VALUES, axisMessage) }),
  /** min, min+step, … while ≤ max (Gradient: 100 … 1,140,200 step 86,675 gives 14 lengths). */
  z
    .object({ kind: z.literal('step'), min: contextLength, max: contextLength, step: contextLength })
    // Counted, not listed: a step axis is never expanded before its size is known.
    .refine((a) => a.max < a.min || Math.floor((a.max - a.min) / a.step) + 1 <= MAX_AXIS_VALUES, { message: axisMessage, path: ['step'] }),
  z.object({ kind: z.literal('list'), values: z.array(contextLength).min(1).max(MAX_AXIS_VALUES, axisMessage) }),
]);
export type NiahLengthAxis = z.infer<typeof niahLengthAxisSchema>;

export const niahDepthAxisSchema = z.discriminatedUnion('kind', [
  /**
   * count points from min to max. linear: percents rounded to integers like the original
   * harness; sigmoid: 100/(1+e^(−0.1(x−50))) rounded to 3 decimals, ends kept at 0 and 100.
   */
  z.object({
    kind: z.literal('linspace'),
    min: depth.default(0),
    max: depth.default(1),
    count: positiveInt.max(MAX_AXIS_VALUES, axisMessage),
    curve: z.enum(['linear', 'sigmoid']).default('linear'),
  }),
  z
    .object({ kind: z.literal('step'), min: depth.default(0), max: depth.default(1), step: z.number().positive().max(1) })
    .refine((a) => a.max < a.min || (a.max - a.min) / a.step + 1 <= MAX_AXIS_VALUES + 1e-6, { message: axisMessage, path: ['step'] }),
  z.object({ kind: z.literal('list'), values: z.array(depth).min(1).max(MAX_AXIS_VALUES, axisMessage) }),
]);
export type NiahDepthAxis = z.infer<typeof niahDepthAxisSchema>;

export const niahGridPresetSchema = z.enum(['gradient', '360zhinao']);
export type NiahGridPreset = z.infer<typeof niahGridPresetSchema>;

export const niahGridSchema = z
  .object({
    /** Fills lengths/depths (and the variant's digit count) from a published evaluation. */
    preset: niahGridPresetSchema.optional(),
    lengths: niahLengthAxisSchema.optional(),
    depths: niahDepthAxisSchema.optional(),
    samples: positiveInt.max(100).default(1),
  })
  .refine((g) => g.preset !== undefined || (g.lengths !== undefined && g.depths !== undefined), {
    message: 'give a preset, or both lengths and depths',
  });
export type NiahGrid = z.infer<typeof niahGridSchema>;

export const niahCustomNeedleSchema = z.object({
  needle: text().trim().min(1, 'the needle must not be empty').max(20_000),
  question: text().trim().min(1, 'the question must not be empty').max(2_000),
  instruction: text().max(2_000).default(''),
  expected: z.array(text().min(1).max(2_000)).min(1, 'give at least one expected answer string').max(64),
});

export const niahOptionsSchema = z.object({
  /** Digits of the random numbers in value needles: 7 (360Zhinao) or 8 (Gradient). */
  digits: z.number().int().min(1).max(15).optional(),
  /** Needles per prompt for the multi-* variants. */
  needles: z.number().int().min(1).max(64).optional(),
  /** Keys asked at once by multi-query. */
  queries: z.number().int().min(1).max(64).optional(),
  /**
   * chat: system + user(context) + user(question + instruction), as gkamradt's OpenAI provider;
   * single: one user message `context\n\nquestion instruction`, as 360Zhinao's harness.
   */
  layout: z.enum(['chat', 'single']).optional(),
  systemPrompt: text().max(10_000).optional(),
  /** How far (in tokens) a needle may move back to reach a sentence end. */
  maxWalkTokens: z.number().int().min(0).max(100_000).default(256),
  /** beginning: every sample starts at the corpus' first document (the original harness); random: sample 0 at the start, others at seeded documents. */
  haystackStart: z.enum(['beginning', 'random']).default('random'),
  /** Re-tokenise every full prompt to check the count (slow; the builder is exact by construction). */
  verify: z.boolean().default(false),
  maxTokens: z.number().int().positive().max(100_000).default(300),
  temperature: z.number().min(0).max(2).default(0),
});
export type NiahOptions = z.infer<typeof niahOptionsSchema>;

export const niahSpecSchema = z
  .object({
    variant: niahVariantSchema,
    language: niahLanguageSchema.optional(),
    /** Corpus name: 'sotu-en', 'tang-zh', or a user corpus the caller loaded; default by language. */
    corpus: text().trim().min(1).max(200).optional(),
    tokenizer: niahTokenizerSchema,
    grid: niahGridSchema,
    seed: z.number().int().min(0).max(2 ** 32 - 1).default(0),
    scorer: niahScorerSchema.optional(),
    options: niahOptionsSchema.default(niahOptionsSchema.parse({})),
    custom: niahCustomNeedleSchema.optional(),
  })
  .refine((s) => s.variant !== 'custom' || s.custom !== undefined, { message: 'the custom variant needs `custom`', path: ['custom'] })
  .refine((s) => !(s.variant === 'zh-story' && s.language === 'en'), { message: 'zh-story is Chinese', path: ['language'] })
  .refine((s) => !(s.variant === 'original' && s.language === 'zh'), { message: 'original is English', path: ['language'] });
export type NiahSpec = z.infer<typeof niahSpecSchema>;
export type NiahSpecInput = z.input<typeof niahSpecSchema>;

/** One scored (or failed) cell, as stored and exported. A failed request has score null — it is never scored. */
export const niahCellResultSchema = z.object({
  cellId: z.string(),
  length: contextLength,
  depth,
  sample: z.number().int().min(0),
  promptTokens: positiveInt,
  needle: z.string(),
  expected: z.array(z.string()),
  response: z.string().nullable(),
  score: z.number().min(0).max(100).nullable(),
  latencyMs: z.number().min(0).nullable(),
  error: z.string().nullable(),
});
export type NiahCellResult = z.infer<typeof niahCellResultSchema>;

/** Starting a NIAH sweep against a registered endpoint. */
export const evalStartInput = z.object({
  name: text().trim().min(1, 'must not be empty').max(200),
  endpointId: idSchema,
  modelId: idSchema.optional(),
  spec: niahSpecSchema,
  concurrency: z.number().int().min(1).max(256).default(4),
  /**
   * chat: messages to /v1/chat/completions (the server applies its chat template); completion-ids:
   * the exact token ids of our templated prompt to /v1/completions, so the length the model sees
   * is the length we built (vLLM accepts token-id prompts).
   */
  mode: z.enum(['chat', 'completion-ids']).default('chat'),
  /** A caller-chosen key: the same key never starts a second run. */
  requestKey: text().trim().min(1).max(200).optional(),
});

// ---------- local checks (onnxruntime-node on the worker) ----------

/** How the RoPE base is chosen per sequence length L (θ0, L0: the model's theta and max positions). */
export const checkThetaRuleSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('model') }),
  z.object({ kind: z.literal('fixed'), theta: z.number().positive('must be positive') }),
  z.object({ kind: z.literal('ntk'), targetLength: contextLength }),
  z.object({ kind: z.literal('dynamic-ntk'), alpha: z.number().positive('must be positive').default(4) }),
]);
export type CheckThetaRule = z.infer<typeof checkThetaRuleSchema>;

/** Perplexity against context length on held-out text (State of the Union addresses from 2001 on). */
export const perplexityCheckSchema = z.object({
  kind: z.literal('perplexity'),
  thetaRule: checkThetaRuleSchema.default({ kind: 'model' }),
  lengths: z.array(z.number().int().min(16, 'must be at least 16 tokens').max(16_384, 'at most 16,384 tokens on a CPU')).min(1, 'give at least one length').max(32),
  samples: z.number().int().min(1).max(32).default(4),
  seed: nonNegativeInt.default(0),
});

/** Tokenizer round trips (byte, llama3; English and Chinese) and the engine's KV-cache path against a full prefill. */
export const roundtripCheckSchema = z.object({
  kind: z.literal('roundtrip'),
  length: z.number().int().min(32).max(8192).default(512),
  samples: z.number().int().min(1).max(64).default(8),
  seed: nonNegativeInt.default(0),
});

export const localCheckSpecSchema = z.discriminatedUnion('kind', [perplexityCheckSchema, roundtripCheckSchema]);
export type LocalCheckSpec = z.infer<typeof localCheckSpecSchema>;

export const checkStartInput = z.object({
  name: text().trim().min(1, 'must not be empty').max(200),
  /** A lab model (byte-level, ONNX) whose sourceUri the worker can read. */
  modelId: idSchema,
  spec: localCheckSpecSchema,
  requestKey: text().trim().min(1).max(200).optional(),
});
export type CheckStartInput = z.infer<typeof checkStartInput>;
