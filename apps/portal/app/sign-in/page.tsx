import type { Metadata } from 'next';
import { SignInForm } from '../../src/components/SignInForm';

export const metadata: Metadata = { title: 'Sign in' };
export const dynamic = 'force-dynamic';

export default async function SignInPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const sp = await searchParams;
  const next = typeof sp.next === 'string' && sp.next.startsWith('/') && !sp.next.startsWith('//') ? sp.next : '/';
  return (
    <section className="panel" style={{ maxWidth: 420, margin: '48px auto' }} aria-labelledby="signin-h">
      <h1 id="signin-h">Sign in to ctxlab</h1>
      {sp.expired ? <p className="callout warn">Your session has ended. Sign in again.</p> : null}
      <SignInForm next={next} />
      <p className="panel-note">No account? An admin creates one (Admin → Users). The first admin&apos;s one-time password is printed by <code>npm start</code>.</p>
    </section>
  );
}
