import type { Metadata } from 'next';
import { connection } from 'next/server';
import { BaselineDetail } from '@/components/detection/Baselines';
import { workloadFromSegments } from '@/components/detection/inboxState';
import { getQueryClient, HydrateClient, trpc } from '@/components/trpc/server';
import { requirePage } from '@/server/auth/page';
import { roleHasScope } from '@/server/auth/permissions';

interface BaselinePageProps {
  /** The workload key's segments: /baselines/k8s/shop/checkout-api/api */
  params: Promise<{ workload: string[] }>;
}

export async function generateMetadata({ params }: BaselinePageProps): Promise<Metadata> {
  return { title: `Baseline ${workloadFromSegments((await params).workload)}` };
}

/** One workload's baseline: profiles, learning window, entries by kind and source, its indicators. */
export default async function BaselinePage({ params }: BaselinePageProps) {
  await connection();
  const principal = await requirePage('baselines:read');
  const workload = workloadFromSegments((await params).workload);
  await getQueryClient().prefetchQuery(trpc.baselines.get.queryOptions({ workload }));
  return (
    <HydrateClient>
      <BaselineDetail workload={workload} canWrite={roleHasScope(principal.role, 'baselines:write')} />
    </HydrateClient>
  );
}
