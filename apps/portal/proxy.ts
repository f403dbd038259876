/**
 * An early, cheap redirect: a page request without a session cookie goes to sign-in with a 307
 * (so scripts and crawlers see a redirect, not an empty shell). This is not the security check —
 * every page and API call resolves the session itself (src/server/api.ts, libs/api).
 */
import { NextResponse, type NextRequest } from 'next/server';

export function proxy(request: NextRequest) {
  if (request.cookies.get('ctxlab_session')?.value) return NextResponse.next();
  const url = request.nextUrl.clone();
  const next = `${request.nextUrl.pathname}${request.nextUrl.search}`;
  url.pathname = '/sign-in';
  url.search = next === '/' ? '' : `?next=${encodeURIComponent(next)}`;
  return NextResponse.redirect(url);
}

export const config = {
  // Pages only: the API answers 401 itself; sign-in, assets and the icon stay open.
  matcher: ['/((?!api/|_next/|sign-in|icon.svg|favicon.ico).*)'],
};
