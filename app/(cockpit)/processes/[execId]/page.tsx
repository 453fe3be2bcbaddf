import type { Metadata } from 'next';
import { connection } from 'next/server';
import { requirePage } from '@/server/auth/page';
import { roleHasScope } from '@/server/auth/permissions';
import { ProcessDetail } from '@/components/processes/ProcessDetail';
import { getQueryClient, HydrateClient, trpc } from '@/components/trpc/server';

interface ProcessPageProps {
  params: Promise<{ execId: string }>;
}

/** Exec ids contain colons: links encode them; decode defensively (a double-encoded link still opens). */
function decodeExecId(raw: string): string {
  try {
    return raw.includes('%') ? decodeURIComponent(raw) : raw;
  } catch {
    return raw;
  }
}

export async function generateMetadata({ params }: ProcessPageProps): Promise<Metadata> {
  return { title: `Process ${decodeExecId((await params).execId)}` };
}

/** One process image. A permalink: the first HTML already carries the data (prefetched here; the zooms load in the browser, where their TTL counts down). */
export default async function ProcessPage({ params }: ProcessPageProps) {
  await connection();
  const principal = await requirePage('processes:read');
  const execId = decodeExecId((await params).execId);
  const queryClient = getQueryClient();
  await Promise.all([
    queryClient.prefetchQuery(trpc.processes.get.queryOptions({ execId })),
    queryClient.prefetchQuery(trpc.processes.ancestry.queryOptions({ execId })),
    queryClient.prefetchQuery(trpc.processes.children.queryOptions({ execId })),
  ]);
  return (
    <HydrateClient>
      <ProcessDetail execId={execId} canOrderZooms={roleHasScope(principal.role, 'zooms:order')} />
    </HydrateClient>
  );
}
