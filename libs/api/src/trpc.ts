/**
 * Context, init and the one procedure builder every procedure goes through. Domain errors are
 * mapped to tRPC codes here and nowhere else; input errors name the field and the reason.
 */
import { DomainError, type DomainErrorCode } from '@ctxlab/contracts';
import type { ApiDeps } from './deps';
import { initTRPC, TRPCError } from '@trpc/server';
import { timingSafeEqual } from 'node:crypto';
import superjson from 'superjson';
import { ZodError } from 'zod';

export interface Actor {
  id: string;
  name: string;
  role: 'viewer' | 'member' | 'admin';
}

export interface Context extends ApiDeps {
  /** Who is calling; resolved from the request by the adapter that serves the API. */
  actor: Actor | null;
  /** Where the request came from, for logs. */
  source: 'http' | 'internal';
  /** The request's `Authorization: Bearer …` token, when it sent one. */
  bearer?: string | null;
}

const codeMap: Record<DomainErrorCode, TRPCError['code']> = {
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
  BAD_REQUEST: 'BAD_REQUEST',
  PRECONDITION_FAILED: 'PRECONDITION_FAILED',
  UNAVAILABLE: 'SERVICE_UNAVAILABLE',
};

function isZodError(e: unknown): e is ZodError {
  return e instanceof ZodError || (typeof e === 'object' && e !== null && Array.isArray((e as ZodError).issues) && (e as Error).name === 'ZodError');
}

export function zodMessage(e: ZodError): string {
  return e.issues
    .map((i) => `${i.path.length ? i.path.join('.') : 'input'}: ${i.message}`)
    .join('; ');
}

export interface Meta {
  role?: Actor['role'];
  /** Machine callers: 'infra' procedures answer only to the infrastructure token. */
  machine?: 'infra';
}

const t = initTRPC.context<Context>().meta<Meta>().create({
  // Stack traces stay in the server log, in every environment.
  isDev: false,
  transformer: superjson,
  errorFormatter({ shape, error }) {
    const zod = isZodError(error.cause) ? error.cause : null;
    const domain = error.cause instanceof DomainError ? error.cause : null;
    return {
      ...shape,
      message: zod ? zodMessage(zod) : shape.message,
      data: {
        code: shape.data.code,
        httpStatus: shape.data.httpStatus,
        path: shape.data.path,
        // Field-level detail for forms; stack traces never leave the server.
        fields: zod ? zod.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) : domain?.field ? [{ path: domain.field, message: domain.message }] : [],
      },
    };
  },
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

const mapErrors = t.middleware(async ({ next }) => {
  const res = await next();
  if (!res.ok) {
    const cause = res.error.cause;
    if (cause instanceof DomainError) {
      throw new TRPCError({ code: codeMap[cause.code], message: cause.message, cause });
    }
    if (cause instanceof Error && (cause.name === 'LongctxError' || cause.name === 'DispatchError')) {
      // The planners' and renderers' own input checks: the message names the field.
      throw new TRPCError({ code: 'BAD_REQUEST', message: cause.message, cause });
    }
    if (isZodError(cause)) {
      // Same message in-process (server components, scripts) as over HTTP.
      throw new TRPCError({ code: 'BAD_REQUEST', message: zodMessage(cause), cause });
    }
    if (res.error.code === 'INTERNAL_SERVER_ERROR') {
      console.error('[api] internal error', cause ?? res.error);
      throw new TRPCError({ code: 'INTERNAL_SERVER_ERROR', message: 'internal error: the server logged the details' });
    }
  }
  return res;
});

/**
 * The authenticated-procedure builder. Until accounts exist every caller acts as the local
 * operator; the access-control work replaces `resolveActor` and the role check in one place.
 */
const authenticated = t.middleware(({ ctx, next, meta }) => {
  if (meta?.machine === 'infra') {
    if (!ctx.infraToken) throw new TRPCError({ code: 'PRECONDITION_FAILED', message: 'the capacity API is off: set CTXLAB_INFRA_TOKEN on the portal' });
    if (!ctx.bearer || !sameSecret(ctx.bearer, ctx.infraToken)) {
      throw new TRPCError({ code: 'UNAUTHORIZED', message: 'send the infrastructure token as Authorization: Bearer <token>' });
    }
    return next({ ctx: { ...ctx, actor: { id: 'infra', name: 'infrastructure', role: 'viewer' as const } } });
  }
  const actor = ctx.actor ?? { id: 'local', name: 'local operator', role: 'admin' as const };
  const need = meta?.role ?? 'viewer';
  const rank = { viewer: 0, member: 1, admin: 2 } as const;
  if (rank[actor.role] < rank[need]) {
    throw new TRPCError({ code: 'FORBIDDEN', message: `this needs the ${need} role; you are ${actor.role}` });
  }
  return next({ ctx: { ...ctx, actor } });
});

const base = t.procedure.use(mapErrors).use(authenticated);
/** Reads. */
export const viewerProcedure = base.meta({ role: 'viewer' });
/** Creates, edits and runs. */
export const memberProcedure = base.meta({ role: 'member' });
/** Deletion, endpoints, users. */
export const adminProcedure = base.meta({ role: 'admin' });
/** Read by infrastructure automation (Terraform) with the infra token. */
export const infraProcedure = base.meta({ role: 'viewer', machine: 'infra' });

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
