'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useTRPC } from '@/components/trpc/react';
import { ErrorState, LoadingState } from '@/components/ui/states';
import { formatNs } from '../format/time';
import { OneTimeSecret } from './OneTimeSecret';
import { ROLE_CHOICES as ROLES, type RoleChoice as Role } from './roles';


/** Accounts: create (password shown once), change role, disable, end sessions, reset password. */
export function UsersAdmin() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const users = useQuery(trpc.users.list.queryOptions());
  const [secret, setSecret] = useState<{ label: string; value: string } | null>(null);
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.users.list.queryKey() });
  const onError = () => undefined;
  const create = useMutation(trpc.users.create.mutationOptions({ onSuccess: (r) => { setSecret({ label: `Password of ${r.user.email}`, value: r.password }); void refresh(); }, onError }));
  const setRole = useMutation(trpc.users.setRole.mutationOptions({ onSuccess: refresh, onError }));
  const setDisabled = useMutation(trpc.users.setDisabled.mutationOptions({ onSuccess: refresh, onError }));
  const endSessions = useMutation(trpc.users.endSessions.mutationOptions({ onSuccess: refresh, onError }));
  const reset = useMutation(trpc.users.resetPassword.mutationOptions({ onSuccess: (r) => setSecret({ label: `New password of ${r.user.email}`, value: r.password }), onError }));
  const failed = [create, setRole, setDisabled, endSessions, reset].find((m) => m.error);

  function onCreate(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    create.mutate({ email: String(data.get('email')), role: String(data.get('role')) as Role, displayName: String(data.get('displayName') || '') || undefined });
    event.currentTarget.reset();
  }

  return (
    <>
      <form className="search-form" onSubmit={onCreate} aria-label="Create a user">
        <label>
          Email
          <input name="email" type="email" required maxLength={254} />
        </label>
        <label>
          Name
          <input name="displayName" maxLength={200} />
        </label>
        <label>
          Role
          <select name="role" defaultValue="viewer">
            {ROLES.map((r) => (
              <option key={r}>{r}</option>
            ))}
          </select>
        </label>
        <button type="submit" disabled={create.isPending}>
          Create user
        </button>
      </form>
      {secret && <OneTimeSecret label={secret.label} value={secret.value} onDismiss={() => setSecret(null)} />}
      {failed?.error && <ErrorState error={failed.error} what="the change was not made" />}
      {users.isPending ? (
        <LoadingState>Loading users…</LoadingState>
      ) : users.error ? (
        <ErrorState error={users.error} what="users" />
      ) : (
        <div className="table-scroll">
          <table className="data-table" aria-label="Users">
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Name</th>
                <th scope="col">Role</th>
                <th scope="col">Sign-in</th>
                <th scope="col">State</th>
                <th scope="col">Created (UTC)</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {users.data.users.map((u) => (
                <tr key={u.id} data-user-email={u.email}>
                  <td>{u.email}</td>
                  <td>{u.displayName}</td>
                  <td>
                    <select
                      aria-label={`Role of ${u.email}`}
                      value={u.role}
                      onChange={(e) => setRole.mutate({ id: u.id, role: e.target.value as Role })}
                    >
                      {ROLES.map((r) => (
                        <option key={r}>{r}</option>
                      ))}
                    </select>
                  </td>
                  <td>{[u.hasPassword && 'password', u.sso && 'SSO'].filter(Boolean).join(', ')}</td>
                  <td>{u.disabled ? <span className="badge badge--bad">disabled</span> : <span className="badge badge--ok">active</span>}</td>
                  <td className="mono nowrap">{formatNs(u.createdAtNs)}</td>
                  <td className="nowrap">
                    <button type="button" onClick={() => setDisabled.mutate({ id: u.id, disabled: !u.disabled })}>
                      {u.disabled ? 'Enable' : 'Disable'}
                    </button>{' '}
                    <button type="button" onClick={() => endSessions.mutate({ id: u.id })}>
                      End sessions
                    </button>{' '}
                    {u.hasPassword && (
                      <button type="button" onClick={() => reset.mutate({ id: u.id })}>
                        Reset password
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
