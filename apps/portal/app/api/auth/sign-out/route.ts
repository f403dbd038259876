import { clearSessionCookie, resolveSession, sessionFromCookie, signOut } from '@ctxlab/api';
import { deps } from '../../../../src/server/api';

/** POST → ends this browser's session (deleted server-side, cookie cleared). */
export async function POST(req: Request) {
  const secret = sessionFromCookie(req.headers.get('cookie'));
  if (secret) {
    const d = deps();
    const who = await resolveSession(d.repos, secret);
    await signOut(d.repos, secret);
    if (who) await d.repos.accounts.recordAudit({ actorId: who.id, actorName: who.name, via: 'session', action: 'auth.signOut', entity: 'auth', entityId: who.id });
  }
  return Response.json({ ok: true }, { headers: { 'set-cookie': clearSessionCookie(), 'cache-control': 'no-store' } });
}
