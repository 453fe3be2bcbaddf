import type { Metadata } from 'next';
import { connection } from 'next/server';
import { IndicatorDetail } from '@/components/detection/IndicatorDetail';
import { IndicatorInvestigations } from '@/components/investigations/IndicatorInvestigations';
import { getQueryClient, HydrateClient, trpc } from '@/components/trpc/server';
import { requirePage } from '@/server/auth/page';
import { roleHasScope } from '@/server/auth/permissions';

interface IndicatorPageProps {
  params: Promise<{ id: string }>;
}

export async function generateMetadata({ params }: IndicatorPageProps): Promise<Metadata> {
  return { title: `Indicator ${(await params).id}` };
}

/** One indicator and why it fired. A permalink: the first HTML already carries the data. */
export default async function IndicatorPage({ params }: IndicatorPageProps) {
  await connection();
  const principal = await requirePage('indicators:read');
  const { id } = await params;
  await getQueryClient().prefetchQuery(trpc.indicators.get.queryOptions({ id }));
  return (
    <HydrateClient>
      <IndicatorDetail id={id} canAllow={roleHasScope(principal.role, 'baselines:write')} />
      {roleHasScope(principal.role, 'investigations:read') && <IndicatorInvestigations indicatorId={id} />}
    </HydrateClient>
  );
}
