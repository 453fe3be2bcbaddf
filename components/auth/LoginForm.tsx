'use client';

import { useEffect, useState, type FormEvent } from 'react';

const SSO_ERRORS: Record<string, string> = {
  sso_failed: 'Single sign-on did not complete. Try again, or ask an admin to look at the audit log.',
  sso_no_role: 'Single sign-on worked, but no cockpit role is mapped to your account. Ask an admin.',
  sso_disabled: 'Your account is disabled.',
  sso_conflict: 'Your single sign-on identity cannot be linked to the existing account with that email. Ask an admin.',
};

/**
 * Email + password, posted as JSON (never a form post: the API accepts JSON only). On success the
 * server has set the session cookie; the browser goes on to where the user was headed.
 */
export function LoginForm({ next, sso, error: initialError }: { next: string; sso: { name: string } | null; error: string | null }) {
  const [busy, setBusy] = useState(false);
  // True once React has hydrated the form (tests use it to prove scripts ran under the CSP).
  const [hydrated, setHydrated] = useState(false);
  useEffect(() => setHydrated(true), []);
  const [error, setError] = useState<string | null>(initialError ? (SSO_ERRORS[initialError] ?? 'Sign-in failed.') : null);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    setBusy(true);
    setError(null);
    try {
      const response = await fetch('/api/auth/login', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: String(data.get('email') ?? ''), password: String(data.get('password') ?? ''), next }),
      });
      const body = (await response.json().catch(() => null)) as { next?: string; error?: { message?: string } } | null;
      if (!response.ok) throw new Error(body?.error?.message ?? `sign-in failed (HTTP ${response.status})`);
      window.location.assign(body?.next ?? '/');
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
      setBusy(false);
    }
  }

  return (
    <div className="login">
      <form className="login__form" onSubmit={onSubmit} aria-labelledby="login-title" data-hydrated={hydrated ? "true" : "false"}>
        <h1 id="login-title">Sign in</h1>
        <label>
          Email
          <input name="email" type="email" autoComplete="username" required maxLength={254} autoFocus />
        </label>
        <label>
          Password
          <input name="password" type="password" autoComplete="current-password" required maxLength={1024} />
        </label>
        <button type="submit" disabled={busy || !hydrated}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        {error && (
          <p role="alert" className="state state--error">
            {error}
          </p>
        )}
      </form>
      {sso && (
        <p className="login__sso">
          <a href={`/api/auth/oidc/start${next === '/' ? '' : `?next=${encodeURIComponent(next)}`}`}>Sign in with {sso.name}</a>
        </p>
      )}
    </div>
  );
}
