import type { Metadata } from 'next';
import { connection } from 'next/server';
import { BaselineList } from '@/components/detection/Baselines';
import { requirePage } from '@/server/auth/page';
import { roleHasScope } from '@/server/auth/permissions';

export const metadata: Metadata = { title: 'Baselines' };

/** Every workload's baseline: status, profiles, entries, open indicators. */
export default async function BaselinesPage() {
  await connection();
  const principal = await requirePage('baselines:read');
  return <BaselineList canWrite={roleHasScope(principal.role, 'baselines:write')} />;
}
