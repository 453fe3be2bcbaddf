import type { NextConfig } from 'next';
import { STATIC_SECURITY_HEADERS } from './server/http/securityHeaders';

const nextConfig: NextConfig = {
  // NEXT_DIST_DIR lets two builds coexist in one checkout (e.g. the scenario runner beside an e2e run).
  distDir: process.env.NEXT_DIST_DIR || '.next',
  // chDB is a native addon that Turbopack cannot bundle; gRPC is loaded by the collector only.
  serverExternalPackages: ['chdb', '@grpc/grpc-js'],
  poweredByHeader: false,
  reactStrictMode: true,
  typedRoutes: false,
  experimental: {
    // forbidden(): a page the caller's role may not see answers 403 (app/forbidden.tsx).
    authInterrupts: true,
  },
  async headers() {
    return [{ source: '/:path*', headers: [...STATIC_SECURITY_HEADERS] }];
  },
};

export default nextConfig;
