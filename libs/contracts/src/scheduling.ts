/** Teams, GPU scheduling (priority, quotas), prices and the cost accounts. */
import { z } from 'zod';
import { idSchema, nameSchema, text } from './common';

export const jobPrioritySchema = z.enum(['high', 'normal', 'low']);
export type JobPriority = z.infer<typeof jobPrioritySchema>;
export const teamRoleSchema = z.enum(['viewer', 'member', 'admin']);

/** What every GPU job request may say about whose it is and how urgent. */
export const schedulingFields = {
  /** The team the job is charged to (id or name). Default: the caller's team when they are in exactly one. */
  team: text().trim().min(1).max(200).optional(),
  priority: jobPrioritySchema.default('normal'),
};

/** A device type as prices and quotas name it: the planner catalog's id ("a100-80gb"), or "cpu" for work that holds no GPU. */
export const deviceTypeSchema = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'a device type: lower-case letters, digits and dashes, e.g. a100-80gb, h100-sxm-80gb or cpu');

export const teamCreateInput = z.object({
  name: nameSchema,
  description: text().max(2000).optional(),
  /** Fair-share weight: a team of weight 2 gets twice the GPUs of a team of weight 1 when both wait. */
  weight: z.number().positive('must be positive').max(1000).default(1),
});
export const teamUpdateInput = z.object({ id: idSchema, weight: z.number().positive('must be positive').max(1000).optional(), description: text().max(2000).optional() });
export const teamMemberInput = z.object({ team: text().trim().min(1).max(200), userId: idSchema, role: teamRoleSchema.default('member') });
export const teamMemberRemoveInput = z.object({ team: text().trim().min(1).max(200), userId: idSchema });

export const quotaPeriodSchema = z.enum(['day', 'week', 'month']);
export const quotaSetInput = z
  .object({
    team: text().trim().min(1).max(200),
    gpuType: deviceTypeSchema,
    period: quotaPeriodSchema.default('month'),
    /** GPU-hours per period; null: no limit on hours. */
    gpuHours: z.number().nonnegative('must not be negative').nullable().default(null),
    /** GPUs held at once; null: no limit on GPUs at once. */
    maxGpus: z.number().int('must be an integer').nonnegative('must not be negative').nullable().default(null),
  })
  .refine((q) => q.gpuHours !== null || q.maxGpus !== null, { message: 'a quota limits GPU-hours, GPUs at once, or both: give gpuHours or maxGpus', path: ['gpuHours'] });
export const quotaRemoveInput = z.object({ team: text().trim().min(1).max(200), gpuType: deviceTypeSchema });

export const priceSetInput = z.object({
  gpuType: deviceTypeSchema,
  pricePerHour: z.number().nonnegative('must not be negative').max(10_000),
  currency: z.string().trim().regex(/^[A-Z]{3}$/, 'an ISO 4217 currency code, e.g. USD or EUR').default('USD'),
  /** Dense BF16 peak, FLOP/s: lets the planner estimate jobs on a device outside its catalog (the lab's cpu). */
  peakFlops: z.number().positive('must be positive').nullable().optional(),
  note: text().max(500).nullable().optional(),
});

export const jobPriorityInput = z.object({ jobId: idSchema, priority: jobPrioritySchema });
export const quotaOverrideInput = z.object({ jobId: idSchema, override: z.boolean().default(true), reason: text().max(500).default('') });

/** Cost accounts over a time range (UTC; default: the current month). */
export const costQueryInput = z.object({
  from: z.coerce.date().optional(),
  to: z.coerce.date().optional(),
  team: text().trim().min(1).max(200).optional(),
});
export type CostQueryInput = z.infer<typeof costQueryInput>;
