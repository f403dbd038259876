/**
 * Context, init and the one procedure builder every procedure goes through. Domain errors are
 * mapped to tRPC codes here and nowhere else; input errors name the field and the reason.
 */
import { DomainError, type DomainErrorCode } from '@ctxlab/contracts';
import { ROLE_RANK, type Role } from './auth/service';
import type { ApiDeps } from './deps';
import { initTRPC, TRPCError } from '@trpc/server';
import { timingSafeEqual } from 'node:crypto';
import superjson from 'superjson';
import { ZodError } from 'zod';

export interface Actor {
  id: string;
  name: string;
  role: Role;
  /** How the caller proved who it is: a portal session, an API token, or in-process code (seeds, server-side jobs). */
  via?: 'session' | 'token' | 'internal' | 'infra';
}

/** The actor as job services see a requester: a person's id only when a person (session or token) asks, so their team memberships are checked. */
export const requesterOf = (a: Actor) => ({ name: a.name, role: a.role, ...(a.via === 'session' || a.via === 'token' ? { id: a.id } : {}) });

export interface Context extends ApiDeps {
  /** Who is calling; resolved from the request by the adapter that serves the API. */
  actor: Actor | null;
  /** Where the request came from, for logs. */
  source: 'http' | 'internal';
  /** The request's `Authorization: Bearer …` token, when it sent one. */
  bearer?: string | null;
  /** Why the credentials the request sent did not resolve to a person (for the 401 message). */
  credentialProblem?: string | null;
}

const codeMap: Record<DomainErrorCode, TRPCError['code']> = {
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
  BAD_REQUEST: 'BAD_REQUEST',
  PRECONDITION_FAILED: 'PRECONDITION_FAILED',
  UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  UNAUTHORIZED: 'UNAUTHORIZED',
  FORBIDDEN: 'FORBIDDEN',
  TOO_MANY_REQUESTS: 'TOO_MANY_REQUESTS',
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
  /** Answers without credentials (liveness, who-am-I). */
  public?: boolean;
  /** Machine callers: 'infra' procedures answer only to the infrastructure token. */
  machine?: 'infra';
}

const t = initTRPC.context<Context>().meta<Meta>().create({
  // Stack traces stay in the server log, in every environment.
  isDev: false,
  transformer: superjson,
  errorFormatter({ shape, error }) {
    const zod = isZodError(error.cause) ? error.cause : null;
    // A library's own field (a planner argument, a spec path) is not a form field: only its message goes out.
    const domain = error.cause instanceof DomainError && error.cause.fieldIsInput ? error.cause : null;
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
      // Every library's error the caller can act on (the planners' and renderers' own input checks,
      // LongctxError and DispatchError, among them): its status says what the API answers.
      throw new TRPCError({ code: codeMap[cause.status], message: cause.message, cause });
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

/** In-process callers with no actor (seeds, tests, server-side tooling). */
const SYSTEM: Actor = { id: 'system', name: 'system', role: 'admin', via: 'internal' };
/** Infrastructure automation holding the infra token. */
const INFRA: Actor = { id: 'infra', name: 'infrastructure', role: 'viewer', via: 'infra' };

/**
 * The authenticated-procedure builder: every procedure passes here. HTTP callers are who their
 * session cookie or API token says (resolved by the adapter into ctx.actor), or nobody —
 * UNAUTHORIZED. In-process callers with no actor (seeds, tests, server-side tooling) act as the
 * system. The role each procedure needs is declared next to it (viewer < member < admin).
 */
const authenticated = t.middleware(({ ctx, next, meta }) => {
  if (meta?.machine === 'infra') {
    if (!ctx.infraToken) throw new TRPCError({ code: 'PRECONDITION_FAILED', message: 'the capacity API is off: set CTXLAB_INFRA_TOKEN on the portal' });
    if (!ctx.bearer || !sameSecret(ctx.bearer, ctx.infraToken)) {
      throw new TRPCError({ code: 'UNAUTHORIZED', message: 'send the infrastructure token as Authorization: Bearer <token>' });
    }
    return next({ ctx: { ...ctx, actor: INFRA } });
  }
  if (meta?.public) return next({ ctx });
  const actor: Actor | null = ctx.actor ?? (ctx.source === 'internal' ? SYSTEM : null);
  if (!actor) throw new TRPCError({ code: 'UNAUTHORIZED', message: ctx.credentialProblem ?? 'sign in, or send an API token as Authorization: Bearer <token>' });
  const need = meta?.role ?? 'viewer';
  if (ROLE_RANK[actor.role] < ROLE_RANK[need]) {
    throw new TRPCError({ code: 'FORBIDDEN', message: `this needs the ${need} role; you are ${actor.role}` });
  }
  return next({ ctx: { ...ctx, actor } });
});

/** What an audit event says of a mutation's input and result: ids, never secrets. */
function auditTarget(input: unknown, data: unknown): { entityId: string | null; detail: Record<string, unknown> } {
  const pick = (o: unknown) => (o && typeof o === 'object' ? (o as Record<string, unknown>) : {});
  const i = pick(input);
  const d = pick(data);
  const entityId = [d.id, pick(d.job).id, pick(d.evalRun).id, pick(d.record).id, pick(d.created).id, i.id, i.jobId, i.modelId].find((x) => typeof x === 'string') as string | undefined;
  const detail: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(i)) {
    if (/password|apiKey|token|secret/i.test(k)) continue;
    if (typeof v === 'string' && v.length <= 200) detail[k] = v;
    else if (typeof v === 'number' || typeof v === 'boolean') detail[k] = v;
  }
  return { entityId: entityId ?? null, detail };
}

/** Probes that change nothing. */
const UNAUDITED = new Set(['workerHealth', 'portal.endpointHealth']);

/** Every successful mutation leaves an audit event: who, how, what, on which record. */
const audited = t.middleware(async ({ ctx, next, type, path, getRawInput }) => {
  const res = await next();
  if (type === 'mutation' && res.ok && ctx.repos && !UNAUDITED.has(path)) {
    const input = await getRawInput().catch(() => undefined);
    const { entityId, detail } = auditTarget(input, res.data);
    // ctx here is what `authenticated` passed on: the resolved actor (or the system, in-process).
    const a = ctx.actor ?? { id: 'system', name: 'anonymous', via: undefined };
    await ctx.repos.accounts
      .recordAudit({ actorId: a.id === 'system' ? null : a.id, actorName: a.name, via: a.via ?? 'internal', action: path, entity: path.split('.')[0] ?? path, entityId, detail: detail as object })
      .catch((e: Error) => console.error(`[api] audit: ${e.message}`));
  }
  return res;
});

const base = t.procedure.use(mapErrors).use(authenticated).use(audited);
/** No credentials needed. */
export const publicProcedure = base.meta({ public: true });
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
