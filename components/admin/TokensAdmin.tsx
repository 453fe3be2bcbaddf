'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useTRPC } from '@/components/trpc/react';
import { ErrorState, LoadingState } from '@/components/ui/states';
import { formatNs } from '../format/time';
import { OneTimeSecret } from './OneTimeSecret';
import { ROLE_CHOICES as ROLES, type RoleChoice as Role } from './roles';

const EXPIRY_DAYS = [7, 30, 90, 365] as const;

/** API tokens for scripts: create (shown once), list with state and last use, revoke. */
export function TokensAdmin() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const tokens = useQuery(trpc.tokens.list.queryOptions());
  const [secret, setSecret] = useState<string | null>(null);
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.tokens.list.queryKey() });
  const create = useMutation(trpc.tokens.create.mutationOptions({ onSuccess: (r) => { setSecret(r.token); void refresh(); } }));
  const revoke = useMutation(trpc.tokens.revoke.mutationOptions({ onSuccess: refresh }));

  function onCreate(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    create.mutate({
      name: String(data.get('name')),
      role: String(data.get('role')) as Role,
      expiresInDays: Number(data.get('expiresInDays')),
    });
    event.currentTarget.reset();
  }

  return (
    <>
      <form className="search-form" onSubmit={onCreate} aria-label="Create an API token">
        <label>
          Name
          <input name="name" required maxLength={100} placeholder="nightly-export" />
        </label>
        <label>
          Role
          <select name="role" defaultValue="viewer">
            {ROLES.map((r) => (
              <option key={r}>{r}</option>
            ))}
          </select>
        </label>
        <label>
          Expires in
          <select name="expiresInDays" defaultValue="30">
            {EXPIRY_DAYS.map((d) => (
              <option key={d} value={d}>
                {d} days
              </option>
            ))}
          </select>
        </label>
        <button type="submit" disabled={create.isPending}>
          Create token
        </button>
      </form>
      {secret && <OneTimeSecret label="New API token" value={secret} onDismiss={() => setSecret(null)} />}
      {(create.error ?? revoke.error) && <ErrorState error={create.error ?? revoke.error} what="the change was not made" />}
      {tokens.isPending ? (
        <LoadingState>Loading tokens…</LoadingState>
      ) : tokens.error ? (
        <ErrorState error={tokens.error} what="API tokens" />
      ) : (
        <div className="table-scroll">
          <table className="data-table" aria-label="API tokens">
            <thead>
              <tr>
                <th scope="col">Id</th>
                <th scope="col">Name</th>
                <th scope="col">Role</th>
                <th scope="col">State</th>
                <th scope="col">Created (UTC)</th>
                <th scope="col">Expires (UTC)</th>
                <th scope="col">Last used (UTC)</th>
                <th scope="col">Created by</th>
                <th scope="col" />
              </tr>
            </thead>
            <tbody>
              {tokens.data.tokens.map((t) => (
                <tr key={t.id} data-token-id={t.id}>
                  <td className="mono">{t.id}</td>
                  <td>{t.name}</td>
                  <td>{t.role}</td>
                  <td>
                    <span className={`badge ${t.state === 'active' ? 'badge--ok' : 'badge--muted'}`}>{t.state}</span>
                  </td>
                  <td className="mono nowrap">{formatNs(t.createdAtNs)}</td>
                  <td className="mono nowrap">{formatNs(t.expiresAtNs)}</td>
                  <td className="mono nowrap">{t.lastUsedNs ? formatNs(t.lastUsedNs) : 'never'}</td>
                  <td>{t.createdBy}</td>
                  <td>
                    {t.state === 'active' && (
                      <button type="button" onClick={() => revoke.mutate({ id: t.id })}>
                        Revoke
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
