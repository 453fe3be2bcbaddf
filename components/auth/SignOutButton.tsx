'use client';

import { useState } from 'react';

/** Signs out of this session (POST, JSON, same origin) and goes to the login page. */
export function SignOutButton({ everywhere = false, label }: { everywhere?: boolean; label?: string }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  async function signOut() {
    setBusy(true);
    setError(null);
    try {
      const response = await fetch('/api/auth/logout', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ everywhere }),
      });
      if (!response.ok) throw new Error(`sign-out failed (HTTP ${response.status})`);
      window.location.assign('/login');
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
      setBusy(false);
    }
  }
  return (
    <>
      <button type="button" className="button--link" onClick={signOut} disabled={busy}>
        {label ?? (everywhere ? 'Sign out everywhere' : 'Sign out')}
      </button>
      {error && (
        <span role="alert" className="bad small">
          {' '}
          {error}
        </span>
      )}
    </>
  );
}
