'use client';

/** A password or token shown exactly once, right after it was made. */
export function OneTimeSecret({ label, value, onDismiss }: { label: string; value: string; onDismiss: () => void }) {
  return (
    <div className="one-time-secret" role="status" aria-live="polite">
      <strong>{label}</strong>
      <p>Copy it now: it is stored only as a hash and is never shown again.</p>
      <code data-testid="one-time-secret">{value}</code>{' '}
      <button type="button" onClick={onDismiss}>
        Done
      </button>
    </div>
  );
}
