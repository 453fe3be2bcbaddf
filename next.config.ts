import type { NextConfig } from 'next';

const nextConfig: NextConfig = {
  // chDB is a native addon that Turbopack cannot bundle; gRPC is loaded by the collector only.
  serverExternalPackages: ['chdb', '@grpc/grpc-js'],
  poweredByHeader: false,
  reactStrictMode: true,
  typedRoutes: false,
};

export default nextConfig;
