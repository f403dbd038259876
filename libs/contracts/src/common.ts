import { z } from 'zod';

/** Registry names: what people type in URLs, CLIs and configs. */
export const nameSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(200, 'must be at most 200 characters')
  .regex(/^[A-Za-z0-9][A-Za-z0-9._\-/ ]*$/, 'may contain letters, digits, ".", "_", "-", "/" and spaces, and must start with a letter or digit');

export const idSchema = z.string().min(1, 'must not be empty').max(64);

export const tagsSchema = z.array(z.string().trim().min(1).max(64)).max(32).default([]);

export const positiveInt = z.number().int('must be an integer').positive('must be positive');
export const nonNegativeInt = z.number().int('must be an integer').nonnegative('must not be negative');

export const sortDirSchema = z.enum(['asc', 'desc']);

/** Offset pagination: the portal's tables jump to pages; scripts page through with nextOffset. */
export function listInput<const S extends readonly [string, ...string[]], F extends z.ZodRawShape>(
  sortFields: S,
  filters: F,
) {
  return z.object({
    limit: z.number().int().min(1).max(200).default(50),
    offset: z.number().int().min(0).default(0),
    search: z.string().trim().max(200).optional(),
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
