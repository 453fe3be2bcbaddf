import type { Metadata } from 'next';
import { UsersAdmin } from '@/components/admin/UsersAdmin';
import { requirePage } from '@/server/auth/page';

export const metadata: Metadata = { title: 'Users' };

/** Scope users:admin (docs/SECURITY.md); the procedures behind it check the same scope. */
export default async function Page() {
  await requirePage('users:admin');
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">Users</h1>
      <UsersAdmin />
    </section>
  );
}
