/**
 * A script against the cockpit's typed API: finds recent processes by binary and prints each
 * one's ancestry. Run it with an API token (made by an admin: `npm run tokens -- create --name
 * my-script --role viewer --expires 30d`, or on the API tokens page), kept in the environment:
 *
 *   export SOC_TOKEN=soc_pat_…
 *   npx tsx docs/examples/api-client.ts http://localhost:3000 sleep
 *
 * Types come from the server's router (`AppRouter`): inputs are checked while you write, and
 * outputs are typed (64-bit values such as nanosecond timestamps are decimal strings).
 */
import { createTRPCClient, httpBatchLink, TRPCClientError } from '@trpc/client';
import type { AppRouter } from '../../server/trpc/root';

const [baseUrl = 'http://localhost:3000', binary = 'sleep'] = process.argv.slice(2);
const token = process.env.SOC_TOKEN;
if (!token?.startsWith('soc_pat_')) {
  console.error('set SOC_TOKEN to an API token (soc_pat_…): npm run tokens -- create --name my-script --role viewer --expires 30d');
  process.exit(2);
}

const api = createTRPCClient<AppRouter>({
  // The token goes in every request as a bearer token; it is never sent in a URL.
  links: [httpBatchLink({ url: `${baseUrl}/api/trpc`, headers: { authorization: `Bearer ${token}` } })],
});

const NS_PER_MS = 1_000_000n;

async function main(): Promise<void> {
  const to = BigInt(Date.now()) * NS_PER_MS;
  const from = to - 3_600_000n * NS_PER_MS; // the last hour
  const { processes, truncated } = await api.processes.search.query({ binary, from: from.toString(), to: to.toString(), limit: 20 });
  console.log(`${processes.length}${truncated ? '+' : ''} process(es) running "${binary}" in the last hour`);
  for (const p of processes) {
    const { chain, end } = await api.processes.ancestry.query({ execId: p.execId });
    console.log(`\n${p.execId}  exit: ${p.exited ? (p.exitSignal ? `signal ${p.exitSignal}` : p.exitCode) : 'running'}`);
    for (const link of [...chain].reverse()) {
      const command = link.argv.join(' ');
      console.log(`  ${link.pid.toString().padStart(7)}  ${command.length > 100 ? `${command.slice(0, 99)}…` : command}`);
    }
    console.log(`  (chain ends: ${end})`);
  }
  // What stepped outside its baseline in the last hour, high severity first, and why.
  const { indicators } = await api.indicators.list.query({ from: from.toString(), to: to.toString(), severity: 'high', limit: 10 });
  console.log(`\n${indicators.length} high-severity indicator(s) in the last hour`);
  for (const i of indicators) console.log(`  ${i.workload}  ${i.kind} ${i.value}  ×${i.count}\n    ${i.sentence}`);
  const me = await api.auth.me.query();
  console.log(`\n(calling as token "${me.name}", role ${me.role})`);
  const { sensors } = await api.sensors.list.query();
  for (const s of sensors) {
    console.log(`sensor ${s.name}: ${s.status?.mode ?? 'no status'}, ${s.connection.state}, drops ${s.status?.droppedKernel ?? '?'}/${s.status?.droppedUser ?? '?'}`);
  }
}

main().catch((error: unknown) => {
  // Errors carry the API's message and code: "invalid input: …" (BAD_REQUEST), "storage unavailable: …"
  // (SERVICE_UNAVAILABLE), UNAUTHORIZED (no, expired or revoked token), FORBIDDEN (the token's role lacks the scope).
  if (error instanceof TRPCClientError) console.error(`${error.data?.code ?? 'ERROR'}: ${error.message}`);
  else console.error(error);
  process.exit(1);
});
