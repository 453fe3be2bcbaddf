import Link from 'next/link';
import type { ReactNode } from 'react';
import { SignOutButton } from '@/components/auth/SignOutButton';
import { TRPCReactProvider } from '@/components/trpc/react';
import { roleHasScope } from '@/server/auth/permissions';
import { requirePage } from '@/server/auth/page';

/** The signed-in cockpit: navigation by role, who is signed in, sign-out. */
export default async function CockpitLayout({ children }: { children: ReactNode }) {
  const principal = await requirePage('account:read');
  const can = (scope: Parameters<typeof roleHasScope>[1]) => roleHasScope(principal.role, scope);
  return (
    <>
      <header className="topbar">
        <Link href="/" className="topbar__brand">
          SOC cockpit
        </Link>
        <nav aria-label="Main">
          <ul className="topbar__nav">
            {can('processes:read') && (
              <li>
                <Link href="/">Processes</Link>
              </li>
            )}
            {can('indicators:read') && (
              <li>
                <Link href="/indicators">Indicators</Link>
              </li>
            )}
            {can('investigations:read') && (
              <li>
                <Link href="/investigations">Investigations</Link>
              </li>
            )}
            {can('baselines:read') && (
              <li>
                <Link href="/baselines">Baselines</Link>
              </li>
            )}
            {can('sensors:read') && (
              <li>
                <Link href="/sensors">Sensors</Link>
              </li>
            )}
            {can('users:admin') && (
              <li>
                <Link href="/admin/users">Users</Link>
              </li>
            )}
            {can('tokens:admin') && (
              <li>
                <Link href="/admin/tokens">API tokens</Link>
              </li>
            )}
            {can('audit:read') && (
              <li>
                <Link href="/admin/audit">Audit log</Link>
              </li>
            )}
          </ul>
        </nav>
        <span className="topbar__note">All times UTC</span>
        <span className="topbar__user">
          <Link href="/settings" title="Your account and sessions" data-testid="signed-in-as">
            {principal.name}
          </Link>{' '}
          <span className="badge badge--muted" data-testid="signed-in-role">
            {principal.role}
          </span>{' '}
          <SignOutButton />
        </span>
      </header>
      <TRPCReactProvider>
        <main className="page">{children}</main>
      </TRPCReactProvider>
    </>
  );
}
