import type { Metadata } from 'next';
import { connection } from 'next/server';
import type { ReactNode } from 'react';
import './globals.css';

export const metadata: Metadata = {
  title: { default: 'SOC cockpit', template: '%s · SOC cockpit' },
  description: 'Process lifecycle and sensor health from eBPF node sensors.',
  referrer: 'same-origin',
};

/**
 * Every page is rendered per request: the Content-Security-Policy carries a fresh nonce for each
 * response (proxy.ts), which Next.js can only put on its scripts at request time.
 */
export default async function RootLayout({ children }: { children: ReactNode }) {
  await connection();
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
