import { clearSessionCookie, sessionCookie, signIn } from '@ctxlab/api';
import { DomainError } from '@ctxlab/contracts';
import { z } from 'zod';
import { deps } from '../../../../src/server/api';
import { requestAddress } from '../../../../src/server/peer';

const body = z.object({ email: z.string().trim().min(1, 'email: must not be empty').max(254), password: z.string().min(1, 'password: must not be empty').max(1024) });
const STATUS: Record<string, number> = { UNAUTHORIZED: 401, TOO_MANY_REQUESTS: 429, BAD_REQUEST: 400, UNAVAILABLE: 503 };

/** POST {email, password} → sets the http-only session cookie; every refusal is JSON with a message. */
export async function POST(req: Request) {
  let input: z.infer<typeof body>;
  try {
    input = body.parse(await req.json());
  } catch (e) {
    const message = e instanceof z.ZodError ? e.issues.map((i) => i.message).join('; ') : 'send JSON: {"email": …, "password": …}';
    return Response.json({ error: message }, { status: 400 });
  }
  const d = deps();
  try {
    // Not the client's own X-Forwarded-For: a new one per attempt would escape the per-address limit.
    const ip = requestAddress(req);
    const r = await signIn({ repos: d.repos, redis: d.jobs.producer() }, { ...input, ip, userAgent: req.headers.get('user-agent') });
    await d.repos.accounts.recordAudit({ actorId: r.user.id, actorName: r.user.name, via: 'session', action: 'auth.signIn', entity: 'auth', entityId: r.user.id, detail: { ip } });
    return Response.json({ user: r.user }, { headers: { 'set-cookie': sessionCookie(r.secret, r.expiresAt, req.url), 'cache-control': 'no-store' } });
  } catch (e) {
    if (e instanceof DomainError) return Response.json({ error: e.message }, { status: STATUS[e.code] ?? 400, headers: { 'set-cookie': clearSessionCookie() } });
    console.error('[portal] sign-in', e);
    return Response.json({ error: 'sign-in is unavailable right now; try again' }, { status: 503 });
  }
}
