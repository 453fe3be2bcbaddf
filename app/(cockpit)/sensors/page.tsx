import type { Metadata } from 'next';
import { connection } from 'next/server';
import { requirePage } from '@/server/auth/page';
import { SensorsView } from '@/components/sensors/SensorsView';

export const metadata: Metadata = { title: 'Sensors' };

/** Sensor health: mode, kernel, programs, drops, gaps. Refreshed in the browser every few seconds. */
export default async function SensorsPage() {
  await connection();
  await requirePage('sensors:read');
  return (
    <section aria-labelledby="sensors-title">
      <h1 id="sensors-title">Sensors</h1>
      <SensorsView />
    </section>
  );
}
