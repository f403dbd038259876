/** Inputs of the portal's read models. Pages send these; every bound is checked here, not in the page. */
import { contextLength, cursorSchema, endpointUrlSchema, evalStatusSchema, idSchema, jobKindSchema, jobStatusSchema, niahGridSchema, nonNegativeInt, text } from '@ctxlab/contracts';
import { z } from 'zod';

/** A page: after `cursor` (the previous page's nextCursor: keyset, however deep), or at `offset` (older clients; cursor wins). */
const page = { limit: z.number().int().min(1).max(200).default(50), offset: nonNegativeInt.default(0), cursor: cursorSchema.optional() };

/** The evals table: one page of runs with their model, endpoint and score, newest first. */
export const evalRunsInput = z.object({
  ...page,
  search: text().trim().max(200).optional(),
  status: evalStatusSchema.optional(),
  modelId: idSchema.optional(),
  endpointId: idSchema.optional(),
});

/** The cost of a grid before it runs. */
export const evalEstimateInput = z.object({
  grid: niahGridSchema,
  /** When given, the longest length is checked against the endpoint's max model length. */
  endpointId: idSchema.optional(),
});

/** One grid cell of a run (every sample of it). */
export const evalCellInput = z.object({
  evalRunId: idSchema,
  length: contextLength,
  depth: z.number().min(0).max(1),
});

/** 2–4 runs on one grid; differences against `baseline` (default: the oldest of them). */
export const compareInput = z
  .object({
    ids: z
      .array(idSchema)
      .min(2, 'choose at least two runs to compare')
      .max(4, 'compare at most four runs at once')
      .refine((ids) => new Set(ids).size === ids.length, 'each run may be chosen once'),
    baseline: idSchema.optional(),
  })
  .refine((v) => v.baseline === undefined || v.ids.includes(v.baseline), { message: 'the baseline must be one of the compared runs', path: ['baseline'] });

export const jobsBoardInput = z.object({
  ...page,
  status: jobStatusSchema.optional(),
  kind: jobKindSchema.optional(),
  /** Only queued, running and retrying jobs. */
  activeOnly: z.boolean().default(false),
});

/** A registered endpoint by id, or a URL not registered yet. */
export const endpointHealthInput = z.union([z.object({ id: idSchema }), z.object({ url: endpointUrlSchema, servedModelName: text().trim().min(1).max(200).optional() })]);

export type EvalRunsInput = z.infer<typeof evalRunsInput>;
export type EvalEstimateInput = z.infer<typeof evalEstimateInput>;
export type EvalCellInput = z.infer<typeof evalCellInput>;
export type CompareInput = z.infer<typeof compareInput>;
export type JobsBoardInput = z.infer<typeof jobsBoardInput>;
export type EndpointHealthInput = z.infer<typeof endpointHealthInput>;
