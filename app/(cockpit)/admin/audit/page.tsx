import type { Metadata } from 'next';
import { AuditLog } from '@/components/admin/AuditLog';
import { requirePage } from '@/server/auth/page';

export const metadata: Metadata = { title: 'Audit log' };

/** Scope audit:read (docs/SECURITY.md); the procedures behind it check the same scope. */
export default async function Page() {
  await requirePage('audit:read');
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">Audit log</h1>
      <AuditLog />
    </section>
  );
}
