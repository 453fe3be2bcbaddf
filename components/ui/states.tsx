import { TRPCClientError } from '@trpc/client';
import type { ReactNode } from 'react';

/** What the API said, in words: the server already made its messages safe and readable. */
export function describeError(error: unknown): { title: string; message: string; code: string | null } {
  if (error instanceof TRPCClientError) {
    const code = ((error.data as { code?: string } | undefined)?.code ?? null) as string | null;
    const title =
      code === 'SERVICE_UNAVAILABLE'
        ? 'Storage unavailable'
        : code === 'NOT_FOUND'
          ? 'Not found'
          : code === 'BAD_REQUEST'
            ? 'Invalid request'
            : code === 'INTERNAL_SERVER_ERROR'
              ? 'Server error'
              : 'Request failed';
    return { title, message: error.message, code };
  }
  // Network failures reach here as TypeError("Failed to fetch") and the like.
  return { title: 'Cannot reach the cockpit server', message: error instanceof Error ? error.message : String(error), code: null };
}

export function LoadingState({ children }: { children: ReactNode }) {
  return (
    <p className="state state--loading" role="status" aria-live="polite">
      {children}
    </p>
  );
}

export function EmptyState({ children }: { children: ReactNode }) {
  return <p className="state state--empty">{children}</p>;
}

export function ErrorState({ error, what }: { error: unknown; what: string }) {
  const { title, message, code } = describeError(error);
  return (
    <div className="state state--error" role="alert" data-error-code={code ?? undefined}>
      <strong>
        {title} — {what}
      </strong>
      <p>{message}</p>
    </div>
  );
}
