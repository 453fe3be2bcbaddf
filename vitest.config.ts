import { defineConfig } from 'vitest/config';
import path from 'node:path';

// Test files are named by how they run (see docs/TESTING.md):
//   *.test.ts        unit, no I/O beyond temp files
//   *.servertest.ts  against the real embedded ClickHouse (chDB), one data directory per file
//   *.livetest.ts    against the real kernel (eBPF, root); skipped with the reason when unavailable
export default defineConfig({
  resolve: { alias: { '@': path.resolve(import.meta.dirname) } },
  test: {
    include: ['**/*.{test,servertest,livetest}.ts'],
    exclude: ['node_modules/**', '.next/**', '.next-*/**', 'e2e/**', 'data/**'],
    // chDB allows one engine per process: every test file gets its own process.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
