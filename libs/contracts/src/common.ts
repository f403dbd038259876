import { z } from 'zod';

/**
 * Text from callers. PostgreSQL text and jsonb cannot hold U+0000, so a NUL byte is refused here,
 * with the field's name, rather than by the database with a 500. Every string an API input
 * carries starts from this.
 */
export const text = () => z.string().regex(/^[^\u0000]*$/, 'must not contain a NUL character');

export const INT32_MAX = 2 ** 31 - 1;
/** Integer columns are int4: a larger number would overflow in PostgreSQL, so it is refused first. */
const int32Max = (s: z.ZodNumber) => s.max(INT32_MAX, 'must be at most 2,147,483,647');
export const int32 = int32Max(z.number().int('must be an integer').min(-INT32_MAX - 1, 'must be at least -2,147,483,648'));

/**
 * The longest context a length may ask for: 2^24 = 16,777,216 tokens. The longest contexts
 * published are about 10M tokens (Llama 4 Scout); beyond that nothing can serve the prompt, and
 * building one would take the worker minutes and gigabytes before failing.
 */
export const MAX_CONTEXT_LENGTH = 2 ** 24;

/** Registry names: what people type in URLs, CLIs and configs. */
export const nameSchema = text()
  .trim()
  .min(1, 'must not be empty')
  .max(200, 'must be at most 200 characters')
  .regex(/^[A-Za-z0-9][A-Za-z0-9._\-/ ]*$/, 'may contain letters, digits, ".", "_", "-", "/" and spaces, and must start with a letter or digit');

export const idSchema = text().min(1, 'must not be empty').max(64);

export const tagSchema = text().trim().min(1).max(64);
export const tagsSchema = z.array(tagSchema).max(32).default([]);

export const positiveInt = int32Max(z.number().int('must be an integer').positive('must be positive'));
export const nonNegativeInt = int32Max(z.number().int('must be an integer').nonnegative('must not be negative'));
/** A length in tokens (context, sequence, prompt). */
export const contextLength = z
  .number()
  .int('must be an integer')
  .positive('must be positive')
  .max(MAX_CONTEXT_LENGTH, `must be at most ${MAX_CONTEXT_LENGTH.toLocaleString('en-US')} tokens`);

/** How deep a free-form JSON value may nest: configs and specs are a few levels deep. */
export const MAX_JSON_DEPTH = 32;

/**
 * A free-form JSON object (a job spec, an eval config) stored in a jsonb column: every key and
 * string inside is checked for NUL, and nesting is bounded. The walk is iterative, so a deeply
 * nested value is refused rather than overflowing the stack.
 */
export const jsonObject = () =>
  z.record(text(), z.unknown()).superRefine((value, ctx) => {
    const stack: { v: unknown; path: (string | number)[] }[] = [{ v: value, path: [] }];
    while (stack.length) {
      const { v, path } = stack.pop()!;
      if (path.length > MAX_JSON_DEPTH) {
        ctx.addIssue({ code: 'custom', path, message: `nests deeper than ${MAX_JSON_DEPTH} levels` });
        return;
      }
      if (typeof v === 'string') {
        if (v.includes('\u0000')) ctx.addIssue({ code: 'custom', path, message: 'must not contain a NUL character' });
      } else if (Array.isArray(v)) {
        v.forEach((x, i) => stack.push({ v: x, path: [...path, i] }));
      } else if (v && typeof v === 'object') {
        for (const [k, x] of Object.entries(v)) {
          if (k.includes('\u0000')) ctx.addIssue({ code: 'custom', path: [...path, k], message: 'must not contain a NUL character' });
          stack.push({ v: x, path: [...path, k] });
        }
      }
    }
  });

export const sortDirSchema = z.enum(['asc', 'desc']);

/**
 * A page position a list answered with (`nextCursor`), sent back as `cursor` for the page after it:
 * keyset pagination, an index range however deep the page. Opaque to clients.
 */
export const cursorSchema = z.string().min(1).max(512).regex(/^[A-Za-z0-9_-]+$/, 'must be a nextCursor this API returned');

/**
 * Keyset pagination: a client pages through with `cursor` = the previous page's `nextCursor`.
 * `offset` still works (jumping to a page number), but costs a scan of every row before it.
 */
export function listInput<const S extends readonly [string, ...string[]], F extends z.ZodRawShape>(
  sortFields: S,
  filters: F,
) {
  return z.object({
    limit: z.number().int().min(1).max(200).default(50),
    offset: nonNegativeInt.default(0),
    cursor: cursorSchema.optional(),
    search: text().trim().max(200).optional(),
    includeArchived: z.boolean().default(false),
    sort: z
      .object({ field: z.enum(sortFields), dir: sortDirSchema.default('asc') })
      .optional(),
    ...filters,
  });
}

export interface Page<T> {
  items: T[];
  total: number;
  /** The next page's `cursor`; null on the last page. */
  nextCursor: string | null;
  /** The next page's `offset` when this one was asked by offset; null on the last page or after a cursor. */
  nextOffset: number | null;
}

export const dtypeSchema = z.enum(['fp32', 'bf16', 'fp16', 'fp8', 'int8', 'int4']);
export type Dtype = z.infer<typeof dtypeSchema>;

export const DTYPE_BYTES: Record<Dtype, number> = {
  fp32: 4,
  bf16: 2,
  fp16: 2,
  fp8: 1,
  int8: 1,
  int4: 0.5,
};
