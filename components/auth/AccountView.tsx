'use client';

import { useQuery } from '@tanstack/react-query';
import { useTRPC } from '@/components/trpc/react';
import { ErrorState, LoadingState } from '@/components/ui/states';
import { formatNs } from '../format/time';
import { ChangePassword } from './ChangePassword';
import { SignOutButton } from './SignOutButton';

/** Who you are, what your role allows, your open sessions, and sign-out everywhere. */
export function AccountView() {
  const trpc = useTRPC();
  const me = useQuery(trpc.auth.me.queryOptions());
  const sessions = useQuery(trpc.auth.sessions.queryOptions());
  if (me.isPending) return <LoadingState>Loading your account…</LoadingState>;
  if (me.error) return <ErrorState error={me.error} what="your account" />;
  return (
    <>
      <dl className="facts">
        <dt>Signed in as</dt>
        <dd>{me.data.name}</dd>
        <dt>Role</dt>
        <dd>{me.data.role}</dd>
        <dt>Allows</dt>
        <dd className="mono small">{me.data.scopes.join(' · ')}</dd>
        {me.data.session && (
          <>
            <dt>This session ends</dt>
            <dd className="mono">{formatNs(me.data.session.expiresAtNs)} at the latest</dd>
          </>
        )}
      </dl>
      <h2>Open sessions</h2>
      {sessions.isPending ? (
        <LoadingState>Loading sessions…</LoadingState>
      ) : sessions.error ? (
        <ErrorState error={sessions.error} what="sessions" />
      ) : (
        <table className="data-table" aria-label="Open sessions">
          <thead>
            <tr>
              <th scope="col">Signed in (UTC)</th>
              <th scope="col">Last seen (UTC)</th>
              <th scope="col">How</th>
              <th scope="col">From</th>
              <th scope="col">Browser</th>
            </tr>
          </thead>
          <tbody>
            {sessions.data.sessions.map((s) => (
              <tr key={`${s.createdAtNs}-${s.sourceAddress}`}>
                <td className="mono nowrap">
                  {formatNs(s.createdAtNs)} {s.current && <span className="badge badge--info">this one</span>}
                </td>
                <td className="mono nowrap">{formatNs(s.lastSeenNs)}</td>
                <td>{s.method}</td>
                <td className="mono">{s.sourceAddress}</td>
                <td className="small clamp" title={s.userAgent}>
                  {s.userAgent}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p>
        <SignOutButton everywhere />
      </p>
      {me.data.kind === 'user' && me.data.session?.method === 'password' && (
        <>
          <h2>Password</h2>
          <ChangePassword />
        </>
      )}
    </>
  );
}
