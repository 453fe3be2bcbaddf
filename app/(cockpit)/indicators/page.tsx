import type { Metadata } from 'next';
import { connection } from 'next/server';
import { Suspense } from 'react';
import { IndicatorInbox } from '@/components/detection/IndicatorInbox';
import { LoadingState } from '@/components/ui/states';
import { requirePage } from '@/server/auth/page';

export const metadata: Metadata = { title: 'Indicators' };

/** The indicator inbox: newest first, filters in the URL, refreshed every two seconds. */
export default async function IndicatorsPage() {
  await connection();
  await requirePage('indicators:read');
  return (
    <Suspense fallback={<LoadingState>Loading indicators…</LoadingState>}>
      <IndicatorInbox />
    </Suspense>
  );
}
