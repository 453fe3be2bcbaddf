import type { EntryRecord, ProfileRecord } from '../../db/repositories/baselines';
import type { IndicatorRecord } from '../../db/repositories/indicators';
import type { ExecInput, FactInput } from './inputs';
import type { DetectorStore, ExecRecordForDetection } from './store';

/**
 * A detector store in memory, for unit tests (the storage round trips have their own
 * servertests): it keeps what was written, the newest row version of each profile and indicator
 * winning, like the ReplacingMergeTree tables do.
 */
export function memoryStore(execs: Map<string, ExecRecordForDetection> = new Map(), sharing?: { profiles: Map<string, ProfileRecord>; entries: EntryRecord[]; indicators: Map<string, IndicatorRecord>; imported: Set<string> }) {
  const profiles = sharing?.profiles ?? new Map<string, ProfileRecord>();
  const entries: EntryRecord[] = sharing?.entries ?? [];
  const indicators = sharing?.indicators ?? new Map<string, IndicatorRecord>();
  const imported = sharing?.imported ?? new Set<string>();
  const newer = (a: { rowVersion: string } | undefined, b: { rowVersion: string }) => !a || BigInt(b.rowVersion) >= BigInt(a.rowVersion);
  const store: DetectorStore & {
    profiles: Map<string, ProfileRecord>;
    entries: EntryRecord[];
    indicators: Map<string, IndicatorRecord>;
    imported: Set<string>;
    writes: number;
    failNext: number;
  } = {
    profiles,
    entries,
    indicators,
    imported,
    writes: 0,
    failNext: 0,
    async load() {
      return { profiles: [...profiles.values()], entries: [...entries], importedWorkloads: [...imported], indicators: [...indicators.values()].map((i) => ({ ...i })) };
    },
    async loadWorkload(workload) {
      return {
        profiles: [...profiles.values()].filter((p) => p.workload === workload),
        entries: entries.filter((e) => e.workload === workload),
        imported: imported.has(workload),
      };
    },
    async changedProfiles(after) {
      return [...profiles.values()].filter((p) => BigInt(p.rowVersion) > BigInt(after));
    },
    async lookupExecs(ids) {
      return new Map(ids.filter((id) => execs.has(id)).map((id) => [id, execs.get(id)!]));
    },
    async write(w) {
      if (store.failNext > 0) {
        store.failNext--;
        throw new Error('injected write failure');
      }
      store.writes++;
      entries.push(...w.entries);
      for (const p of w.profiles) if (newer(profiles.get(`${p.workload}|${p.executable}`), p)) profiles.set(`${p.workload}|${p.executable}`, p);
      for (const i of w.indicators) if (newer(indicators.get(i.id), i)) indicators.set(i.id, i);
    },
  };
  return store;
}

/** Inputs as the collector picks them, for one node. */
export function inputs(node = 'node-a') {
  let pid = 1000;
  return {
    exec(execId: string, binary: string, workload: string | null, tsNs: bigint, extra: Partial<ExecInput> = {}): ExecInput {
      return {
        type: 'exec',
        node,
        execId,
        parentExecId: '',
        tsNs: tsNs.toString(),
        binary,
        argv: [binary],
        seeded: false,
        own: false,
        workload: workload ? { key: workload, kind: workload.split('/')[0]!, namespace: '', name: '', container: '' } : null,
        ...extra,
      };
    },
    syscall(execId: string, name: string, tsNs: bigint, extra: Partial<FactInput> = {}): FactInput {
      return fact(execId, 'syscall', name, tsNs, { ioUring: name.startsWith('io_uring_'), ...extra });
    },
    fact,
  };
  function fact(execId: string, kind: FactInput['kind'], value: string, tsNs: bigint, extra: Partial<FactInput> = {}): FactInput {
    return { type: 'fact', node, execId, pid: pid++, tsNs: tsNs.toString(), own: false, workload: '', kind, value, fact: null, ioUring: false, inbound: false, pathClass: '', ...extra };
  }
}
