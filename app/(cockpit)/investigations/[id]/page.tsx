import type { Metadata } from 'next';
import { connection } from 'next/server';
import { Suspense } from 'react';
import { InvestigationView } from '@/components/investigations/InvestigationView';
import { getQueryClient, HydrateClient, trpc } from '@/components/trpc/server';
import { LoadingState } from '@/components/ui/states';
import { requirePage } from '@/server/auth/page';
import { roleHasScope } from '@/server/auth/permissions';

interface InvestigationPageProps {
  params: Promise<{ id: string }>;
}

export async function generateMetadata({ params }: InvestigationPageProps): Promise<Metadata> {
  return { title: `Investigation ${(await params).id}` };
}

/**
 * One investigation on one page. A permalink: the view state (range, process, panel, row) is in
 * the query string and the header's data is in the first HTML; the panels load in the browser,
 * each saying what it is loading.
 */
export default async function InvestigationPage({ params }: InvestigationPageProps) {
  await connection();
  const principal = await requirePage('investigations:read');
  const { id } = await params;
  await getQueryClient().prefetchQuery(trpc.investigations.get.queryOptions({ id }));
  const permissions = {
    canOrderZoom: roleHasScope(principal.role, 'zooms:order'),
    canVerdict: roleHasScope(principal.role, 'verdicts:write'),
    canNote: roleHasScope(principal.role, 'investigations:write'),
  };
  return (
    <HydrateClient>
      <Suspense fallback={<LoadingState>Loading investigation {id}…</LoadingState>}>
        <InvestigationView id={id} permissions={permissions} />
      </Suspense>
    </HydrateClient>
  );
}
