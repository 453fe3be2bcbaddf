import 'server-only';

import { dehydrate, HydrationBoundary } from '@tanstack/react-query';
import { createTRPCOptionsProxy } from '@trpc/tanstack-react-query';
import { headers } from 'next/headers';
import { cache, createElement, type ReactNode } from 'react';
import { createTRPCContext } from '@/server/trpc/context';
import { appRouter } from '@/server/trpc/root';
import { makeQueryClient } from './query-client';

/** One query client per server request (React's `cache` is per request). */
export const getQueryClient = cache(makeQueryClient);

const createContext = cache(async () => createTRPCContext({ headers: new Headers(await headers()) }));

/**
 * Query options for server components, calling procedures in-process (no HTTP):
 *   await getQueryClient().prefetchQuery(trpc.processes.get.queryOptions({ execId }));
 * Keys match the browser's `useTRPC()` options, so prefetched data hydrates the client components.
 * Await the prefetch (rather than streaming it) so the first HTML is complete; a failed prefetch is
 * not handed over (see query-client.ts): the browser retries it and shows the API's own error.
 */
export const trpc = createTRPCOptionsProxy({ ctx: createContext, router: appRouter, queryClient: getQueryClient });

/** Hands this request's prefetched queries to the client components below it. */
export function HydrateClient({ children }: { children: ReactNode }) {
  return createElement(HydrationBoundary, { state: dehydrate(getQueryClient()) }, children);
}
