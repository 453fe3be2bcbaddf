/**
 * Next.js calls register() once per server process (never during `next build`), in the Node.js
 * runtime only for what follows; dynamic imports keep gRPC and chDB out of every other runtime.
 *   - the admin socket, through which `npm run users` / `npm run tokens` reach this process while
 *     it holds the embedded data directory (server/auth/adminSocket.ts);
 *   - the collector, when SENSORS is configured.
 */
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME !== 'nodejs') return;
  // Unit tests call register() for the collector; they must not open a socket in ./data.
  if (process.env.NODE_ENV !== 'test') {
    const { startAdminSocket } = await import('./server/auth/adminSocket');
    try {
      await startAdminSocket();
    } catch (err) {
      console.error(`admin socket not started: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (!process.env.SENSORS) return;
  const { startCollector } = await import('./server/collector/collector');
  try {
    startCollector();
  } catch (err) {
    // The cockpit still serves what is stored; the sensors page shows this error.
    console.error(`collector not started: ${err instanceof Error ? err.message : String(err)}`);
  }
}
