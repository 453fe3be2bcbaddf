import type { Metadata } from 'next';
import Link from 'next/link';
import type { ReactNode } from 'react';
import { TRPCReactProvider } from '@/components/trpc/react';
import './globals.css';

export const metadata: Metadata = {
  title: { default: 'SOC cockpit', template: '%s · SOC cockpit' },
  description: 'Process lifecycle and sensor health from eBPF node sensors.',
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <header className="topbar">
          <Link href="/" className="topbar__brand">
            SOC cockpit
          </Link>
          <nav aria-label="Main">
            <ul className="topbar__nav">
              <li>
                <Link href="/">Processes</Link>
              </li>
              <li>
                <Link href="/sensors">Sensors</Link>
              </li>
            </ul>
          </nav>
          <span className="topbar__note">All times UTC</span>
        </header>
        <TRPCReactProvider>
          <main className="page">{children}</main>
        </TRPCReactProvider>
      </body>
    </html>
  );
}
