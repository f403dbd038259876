/**
 * The contract between ctxlab's `infra.capacity` tRPC query and Terraform's
 * `infra/terraform/modules/capacity`, which reads it over plain HTTP:
 *
 *   GET {ctxlab_url}/api/trpc/infra.capacity
 *   Authorization: Bearer <token>
 *
 * tRPC v11 (superjson transformer) answers `{"result":{"data":{"json": <payload>}}}`; Terraform
 * reads `jsondecode(body).result.data.json.pools` and, per pool, `gpuType`, `gpusNeeded`,
 * `nodesNeeded`, `gpusPerNode` (and `gpuMemoryGiB`, kept for the plan output). `generatedAt` is a
 * string, so superjson adds no `meta` entry.
 */
import { z } from 'zod';

/** The tRPC procedure path, and the HTTP path the portal serves it at. */
export const CAPACITY_PROCEDURE = 'infra.capacity';
export const CAPACITY_HTTP_PATH = `/api/trpc/${CAPACITY_PROCEDURE}`;

/**
 * A GPU type id as ctxlab's GPU catalog names it ("h100-sxm-80gb", "a100-80gb"). It becomes the
 * value of the node label `ctxlab.dev/gpu-type`, so it must be a valid Kubernetes label value;
 * lower case only, so that one GPU never has two spellings.
 */
export const gpuTypeSchema = z
  .string()
  .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'gpuType must be lower-case letters, digits and dashes, at most 63 characters, starting and ending with a letter or digit (it is a Kubernetes label value)');

const count = z.number().int().nonnegative();

/** What makes up a pool's need: each counts the items holding or waiting for GPUs of this type. */
export const capacitySourcesSchema = z.strictObject({
  /** Serving endpoints (vLLM) that are running or requested. */
  serveEndpoints: count,
  /** Jobs waiting in the queues for GPUs of this type. */
  queuedJobs: count,
  /** Jobs running on GPUs of this type. */
  runningJobs: count,
  /** GPUs that queued jobs wait for (the scheduler has not admitted them): the demand the pool should grow by. */
  queuedGpus: count.default(0),
});

/** The need for one GPU type. */
export const capacityPoolSchema = z
  .strictObject({
    gpuType: gpuTypeSchema,
    /** Memory of one GPU as the driver reports it, GiB. */
    gpuMemoryGiB: z.number().positive(),
    /** GPUs the sources above need in total. */
    gpusNeeded: count,
    /** Nodes of `gpusPerNode` GPUs that hold them (a bin-packing may need more than the quotient). */
    nodesNeeded: count,
    /** GPUs per node the API assumed; Terraform recomputes from gpusNeeded when its pool differs. */
    gpusPerNode: z.number().int().positive(),
    sources: capacitySourcesSchema,
  })
  .refine((p) => p.nodesNeeded * p.gpusPerNode >= p.gpusNeeded, {
    message: 'nodesNeeded × gpusPerNode must hold gpusNeeded',
    path: ['nodesNeeded'],
  })
  .refine((p) => p.nodesNeeded <= p.gpusNeeded, {
    message: 'nodesNeeded must not exceed gpusNeeded (a node is needed only for GPUs)',
    path: ['nodesNeeded'],
  });

/** The payload of `infra.capacity`: one entry per GPU type, each type at most once. */
export const capacityPayloadSchema = z
  .strictObject({
    /** When the need was computed (ISO 8601). */
    generatedAt: z.iso.datetime({ offset: true }),
    pools: z.array(capacityPoolSchema),
  })
  .superRefine((payload, ctx) => {
    const seen = new Set<string>();
    payload.pools.forEach((pool, i) => {
      if (seen.has(pool.gpuType)) {
        ctx.addIssue({ code: 'custom', message: `gpuType ${pool.gpuType} appears twice: report each GPU type once`, path: ['pools', i, 'gpuType'] });
      }
      seen.add(pool.gpuType);
    });
  });

/** The body of a successful non-batched tRPC v11 query over HTTP, with the superjson transformer. */
export function trpcQueryResponseSchema<T extends z.ZodType>(payload: T) {
  return z.object({
    result: z.object({
      data: z.object({
        json: payload,
        /** superjson's type annotations; absent when the payload is plain JSON. */
        meta: z.unknown().optional(),
      }),
    }),
  });
}

/** What Terraform's `data "http" "capacity"` receives. */
export const capacityResponseSchema = trpcQueryResponseSchema(capacityPayloadSchema);

export type CapacitySources = z.infer<typeof capacitySourcesSchema>;
export type CapacityPool = z.infer<typeof capacityPoolSchema>;
export type CapacityPayload = z.infer<typeof capacityPayloadSchema>;
