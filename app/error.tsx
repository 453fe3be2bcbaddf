'use client';

/** Last resort for a page that failed to render (data errors are shown in place, not here). */
export default function PageError({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <div className="state state--error" role="alert">
      <strong>This page failed to render.</strong>
      <p>
        {error.digest ? `Server error (digest ${error.digest}); the details are in the server log.` : error.message}
      </p>
      <button type="button" onClick={reset}>
        Try again
      </button>
    </div>
  );
}
