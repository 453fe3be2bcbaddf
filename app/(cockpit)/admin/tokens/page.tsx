import type { Metadata } from 'next';
import { TokensAdmin } from '@/components/admin/TokensAdmin';
import { requirePage } from '@/server/auth/page';

export const metadata: Metadata = { title: 'API tokens' };

/** Scope tokens:admin (docs/SECURITY.md); the procedures behind it check the same scope. */
export default async function Page() {
  await requirePage('tokens:admin');
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">API tokens</h1>
      <TokensAdmin />
    </section>
  );
}
