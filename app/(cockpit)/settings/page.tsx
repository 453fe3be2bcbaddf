import type { Metadata } from 'next';
import { AccountView } from '@/components/auth/AccountView';
import { requirePage } from '@/server/auth/page';

export const metadata: Metadata = { title: 'Your account' };

/** Scope account:read (docs/SECURITY.md); the procedures behind it check the same scope. */
export default async function Page() {
  await requirePage('account:read');
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">Your account</h1>
      <AccountView />
    </section>
  );
}
