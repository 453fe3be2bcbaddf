/**
 * Next.js calls register() once per server process (never during `next build`). The collector
 * runs here when SENSORS is configured, in the Node.js runtime only; the dynamic import keeps
 * gRPC and chDB out of every other runtime and out of processes that do not collect.
 */
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME !== 'nodejs' || !process.env.SENSORS) return;
  const { startCollector } = await import('./server/collector/collector');
  try {
    startCollector();
  } catch (err) {
    // The cockpit still serves what is stored; the sensors page shows this error.
    console.error(`collector not started: ${err instanceof Error ? err.message : String(err)}`);
  }
}
