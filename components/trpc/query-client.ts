import { defaultShouldDehydrateQuery, QueryClient } from '@tanstack/react-query';
import { TRPCClientError } from '@trpc/client';

/** 4xx answers (bad input, not found) will not change on retry; storage outages (503) may. */
function shouldRetry(failureCount: number, error: unknown): boolean {
  if (error instanceof TRPCClientError) {
    const status = (error.data as { httpStatus?: number } | undefined)?.httpStatus;
    if (status !== undefined && status < 500) return false;
  }
  return failureCount < 1;
}

/** One factory for the browser (one client per tab) and the server (one client per request). */
export function makeQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        // Data from a server render stays fresh briefly, so the browser does not refetch at once.
        staleTime: 10_000,
        retry: shouldRetry,
        refetchOnWindowFocus: false,
      },
      dehydrate: {
        // Only finished queries are handed to the browser: a failed server prefetch is retried there,
        // where the error message can be shown as it came from the API.
        shouldDehydrateQuery: (query) => defaultShouldDehydrateQuery(query),
      },
    },
  });
}
