import { connection } from 'next/server';
import { requirePage } from '@/server/auth/page';
import { Suspense } from 'react';
import { ProcessSearch } from '@/components/processes/ProcessSearch';
import { LoadingState } from '@/components/ui/states';

/** Home: the process search. Its whole state is in the URL (a search is a permalink). */
export default async function HomePage() {
  // Rendered per request: results depend on "now" and on the URL, never on the build.
  await connection();
  await requirePage('processes:read');
  return (
    <Suspense fallback={<LoadingState>Loading search…</LoadingState>}>
      <ProcessSearch />
    </Suspense>
  );
}
