'use client';

import { useMutation } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useTRPC } from '@/components/trpc/react';
import { ErrorState } from '@/components/ui/states';

/** Change your own password; every session of yours ends, so you sign in again afterwards. */
export function ChangePassword() {
  const trpc = useTRPC();
  const [mismatch, setMismatch] = useState(false);
  const change = useMutation(trpc.auth.changePassword.mutationOptions({ onSuccess: () => window.location.assign('/login') }));

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    const newPassword = String(data.get('newPassword') ?? '');
    setMismatch(newPassword !== String(data.get('repeat') ?? ''));
    if (newPassword !== String(data.get('repeat') ?? '')) return;
    change.mutate({ currentPassword: String(data.get('currentPassword') ?? ''), newPassword });
  }

  return (
    <form className="search-form" onSubmit={onSubmit} aria-label="Change password">
      <label>
        Current password
        <input name="currentPassword" type="password" autoComplete="current-password" required maxLength={1024} />
      </label>
      <label>
        New password (12 characters or more)
        <input name="newPassword" type="password" autoComplete="new-password" required minLength={12} maxLength={1024} />
      </label>
      <label>
        Repeat it
        <input name="repeat" type="password" autoComplete="new-password" required minLength={12} maxLength={1024} />
      </label>
      <button type="submit" disabled={change.isPending}>
        Change password
      </button>
      {mismatch && (
        <p role="alert" className="bad">
          The two new passwords differ.
        </p>
      )}
      {change.error && <ErrorState error={change.error} what="the password was not changed" />}
    </form>
  );
}
