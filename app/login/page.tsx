import type { Metadata } from 'next';
import { redirect } from 'next/navigation';
import { LoginForm } from '@/components/auth/LoginForm';
import { authConfig } from '@/server/auth/config';
import { optionalPrincipal } from '@/server/auth/page';
import { safeNextPath } from '@/server/auth/web';

export const metadata: Metadata = { title: 'Sign in' };

/** The login page: `next` is where to go afterwards (a path on this site, checked). */
export default async function LoginPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const params = await searchParams;
  const next = safeNextPath(typeof params.next === 'string' ? params.next : '/');
  const error = typeof params.error === 'string' && /^sso_[a-z_]{1,20}$/.test(params.error) ? params.error : null;
  if (!error && (await optionalPrincipal().catch(() => null))) redirect(next);
  const oidc = authConfig().oidc;
  return (
    <main className="page">
      <LoginForm next={next} sso={oidc ? { name: oidc.name } : null} error={error} />
    </main>
  );
}
