import type { Metadata } from 'next';
import { connection } from 'next/server';
import { Suspense } from 'react';
import { InvestigationList } from '@/components/investigations/InvestigationList';
import { LoadingState } from '@/components/ui/states';
import { requirePage } from '@/server/auth/page';

export const metadata: Metadata = { title: 'Investigations' };

/** Investigations, newest change first, with their status, verdict and zoom state. */
export default async function InvestigationsPage() {
  await connection();
  await requirePage('investigations:read');
  return (
    <Suspense fallback={<LoadingState>Loading investigations…</LoadingState>}>
      <InvestigationList />
    </Suspense>
  );
}
