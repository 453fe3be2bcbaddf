import type { Event } from '../../gen/soc/sensor/v1/sensor';

/**
 * Synthetic process events for TRANSPORT tests only: they exercise seqs, batches, gaps and
 * storage, not what the sensor observes. Never written into a recording (recordings come from
 * the real sensor's `--record`).
 */
/** Recent timestamps (storage applies TTLs), fixed for the process so repeated calls agree. */
const PROCESS_BASE_TS_NS = (BigInt(Date.now()) - 3_600_000n) * 1_000_000n;

export function syntheticEvents(count: number, options: { node?: string; fromIndex?: number; baseTsNs?: bigint } = {}): Event[] {
  const node = options.node ?? 'synthetic-node';
  const base = options.baseTsNs ?? PROCESS_BASE_TS_NS;
  const events: Event[] = [];
  for (let i = 0; i < count; i++) {
    const index = (options.fromIndex ?? 0) + i;
    const pid = 10_000 + Math.floor(index / 3);
    const tsNs = base + BigInt(index) * 1_000_000n;
    const execId = `${node}:boot:${base + BigInt(pid) * 1_000n}:${pid}:1`;
    const common = { seq: '0', tsNs: String(tsNs), node, execId, pid, tid: pid };
    switch (index % 3) {
      case 0:
        events.push({
          ...common,
          body: {
            $case: 'exec',
            value: {
              parentExecId: `${node}:boot:1:1:1`,
              ppid: 1,
              uid: 0,
              gid: 0,
              auid: 4294967295,
              binary: '/usr/bin/true',
              argv: ['true', `--index=${index}`],
              argvTruncated: false,
              cwd: '/',
              comm: 'true',
              cgroupId: '1',
              cgroupPath: '/synthetic.slice',
              container: undefined,
              seeded: false,
              startNs: String(tsNs),
              workload: undefined,
            },
          },
        });
        break;
      case 1:
        events.push({ ...common, body: { $case: 'fork', value: { childPid: pid + 50_000, parentPid: pid } } });
        break;
      default:
        events.push({ ...common, body: { $case: 'exit', value: { exitCode: 0, signal: 0 } } });
    }
  }
  return events;
}
