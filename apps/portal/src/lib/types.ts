import type { AppRouter } from '@ctxlab/api/client';
import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';

/** What each procedure returns / takes, for client components' state. */
export type Out = inferRouterOutputs<AppRouter>;
export type In = inferRouterInputs<AppRouter>;
