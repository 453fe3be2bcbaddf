import { WORKLOAD_PROFILE, type DocumentRecord, type EntryKind } from '../../db/repositories/baselines';
import type { WorkloadInfo } from '../detection/inputs';
import type { Entry, Profile } from '../detection/profiles';
import {
  KUBESCAPE_API_VERSION,
  parseApplicationProfile,
  ProfileFormatError,
  type ApplicationProfileDocument,
  type ContainerProfile,
  type NetworkPeerEntry,
} from './kubescape';

/**
 * Between Kubescape ApplicationProfiles (kubescape.ts reads and writes the YAML) and the
 * cockpit's profiles. A Kubescape profile describes a container as a whole; the cockpit learns per
 * executable. An imported container therefore lands in the workload-level profile '*' of its
 * workload, whose entries hold for every executable of it; an export flattens every profile of
 * the workload into one container again.
 *
 *   containers[].syscalls   ↔ syscall entries
 *   containers[].execs      ↔ exec entries (path; args kept in the entry's detail)
 *   containers[].opens      ↔ file entries (path; flags in the detail)
 *   containers[].endpoints  ↔ http_endpoint entries (Kubescape's HTTP endpoints, carried as they are)
 *   rulePolicies and every field the cockpit does not interpret: kept in the stored document
 *   cockpit extensions (annotation soc-cockpit.io/extensions): io_uring opcodes ↔ io_uring_op
 *   entries, network peers ↔ endpoint entries
 */

/** A container of an imported document, with the workload it belongs to and its entries. */
export interface ImportedContainer {
  workload: string;
  info: Omit<WorkloadInfo, 'key'>;
  container: ContainerProfile;
  entries: Array<Pick<Entry, 'kind' | 'value' | 'detail' | 'position'>>;
}

const WORKLOAD_KEY = /^(k8s|k8s-pod|container|systemd|cgroup|host|imported)\/[^\u0000-\u001f]{1,1000}$/;

export function isWorkloadKey(key: string): boolean {
  return WORKLOAD_KEY.test(key) && !key.split('/').slice(1).some((s) => s === '..' || s === '.');
}

const part = (s: string) => s.replace(/[/\u0000-\u001f]/g, '_') || '_';

/** "10.0.0.7:5432/tcp", "[fd00::1]:443/tcp", ":8080/tcp inbound" (the detector's endpoint values). */
export function peerValue(p: NetworkPeerEntry): string {
  if (p.direction === 'inbound') return `:${p.port}/${p.protocol} inbound`;
  return `${p.address.includes(':') ? `[${p.address}]` : p.address}:${p.port}/${p.protocol}`;
}

/**
 * The containers of a parsed document, each with its workload key: `k8s/<namespace>/<workload>/
 * <container>` from the Kubescape labels (kubescape.io/workload-namespace, -name) or the
 * metadata, or `workloadOverride` (a document with exactly one container). Only `containers`
 * are imported (init and ephemeral containers stay in the stored document).
 */
export function containersToImport(doc: ApplicationProfileDocument, workloadOverride?: string): ImportedContainer[] {
  if (doc.containers.length === 0) throw new ProfileFormatError('the ApplicationProfile has no containers to import');
  if (workloadOverride !== undefined && doc.containers.length !== 1) {
    throw new ProfileFormatError(`a workload can be named only for a document with one container; this one has ${doc.containers.length}`);
  }
  const namespace = doc.labels['kubescape.io/workload-namespace'] ?? doc.namespace;
  const name = doc.labels['kubescape.io/workload-name'] ?? doc.name;
  return doc.containers.map((container) => {
    const workload = workloadOverride ?? (namespace ? `k8s/${part(namespace)}/${part(name)}/${part(container.name)}` : `imported/${part(name)}/${part(container.name)}`);
    if (!isWorkloadKey(workload)) throw new ProfileFormatError(`not a workload key: ${JSON.stringify(workload)}`);
    const entries: ImportedContainer['entries'] = [];
    const add = (kindOf: EntryKind, value: string, detail: Record<string, unknown> = {}) => entries.push({ kind: kindOf, value, detail, position: entries.length });
    for (const s of container.syscalls) add('syscall', s);
    for (const e of container.execs) add('exec', e.path, { args: e.args });
    for (const o of container.opens) add('file', o.path, { flags: o.flags });
    for (const e of container.endpoints) add('http_endpoint', e.endpoint, { methods: e.methods, direction: e.direction, internal: e.internal });
    for (const op of container.ioUringOps) add('io_uring_op', op);
    for (const p of container.networkPeers) add('endpoint', peerValue(p), { address: p.address, port: p.port, protocol: p.protocol, direction: p.direction });
    return {
      workload,
      info: {
        kind: workloadOverride ? (workload.split('/')[0] === 'k8s' ? 'kubernetes' : workload.split('/')[0]!) : namespace ? 'kubernetes' : 'imported',
        namespace: workloadOverride ? '' : namespace,
        name: workloadOverride ? workload.split('/').slice(1).join('/') : name,
        container: workloadOverride ? '' : container.name,
      },
      container,
      entries,
    };
  });
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** The profiles of a workload as one container: every entry once, imported ones first in their order. */
function containerEntries(profiles: readonly Profile[]): Pick<ContainerProfile, 'syscalls' | 'execs' | 'opens' | 'endpoints' | 'ioUringOps' | 'networkPeers'> {
  const all: Entry[] = [];
  for (const p of profiles) all.push(...p.entries());
  const imported = all.filter((e) => e.source === 'imported').sort((a, b) => a.position - b.position);
  const rest = all.filter((e) => e.source !== 'imported').sort((a, b) => (a.tsNs.length - b.tsNs.length || (a.tsNs < b.tsNs ? -1 : a.tsNs > b.tsNs ? 1 : 0)));
  const out = { syscalls: [] as string[], execs: [] as ContainerProfile['execs'], opens: [] as ContainerProfile['opens'], endpoints: [] as ContainerProfile['endpoints'], ioUringOps: [] as string[], networkPeers: [] as NetworkPeerEntry[] };
  const seen = new Set<string>();
  const once = (key: string) => (seen.has(key) ? false : (seen.add(key), true));
  for (const e of [...imported, ...rest]) {
    const d = e.detail;
    switch (e.kind) {
      case 'syscall':
        if (once(`s:${e.value}`)) out.syscalls.push(e.value);
        break;
      case 'exec': {
        const args = strings(d.args);
        if (once(`x:${e.value}\u0000${JSON.stringify(args)}`)) out.execs.push({ path: e.value, args });
        break;
      }
      case 'file': {
        const flags = strings(d.flags);
        if (once(`f:${e.value}\u0000${JSON.stringify(flags)}`)) out.opens.push({ path: e.value, flags });
        break;
      }
      case 'http_endpoint':
        if (once(`h:${e.value}\u0000${JSON.stringify(d)}`)) {
          out.endpoints.push({ endpoint: e.value, methods: strings(d.methods), direction: typeof d.direction === 'string' ? d.direction : '', internal: d.internal === true });
        }
        break;
      case 'io_uring_op':
        if (once(`o:${e.value}`)) out.ioUringOps.push(e.value);
        break;
      case 'endpoint': {
        const direction = d.direction === 'inbound' ? 'inbound' : 'outbound';
        if (once(`e:${e.value}`)) {
          out.networkPeers.push({ address: typeof d.address === 'string' ? d.address : '', port: Number(d.port) || 0, protocol: typeof d.protocol === 'string' ? d.protocol : 'tcp', direction });
        }
        break;
      }
    }
  }
  return out;
}

const slug = (key: string) =>
  `cockpit-${key.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '')}`.slice(0, 253).replace(/-+$/, '');

/**
 * A workload's profiles as an ApplicationProfile. When a document was imported for it, that
 * document is the base (every field the cockpit does not interpret comes back as imported) and
 * only its container's entries are written from the profiles; otherwise a new document.
 */
export function exportDocument(input: {
  workload: string;
  info: Omit<WorkloadInfo, 'key'>;
  profiles: readonly Profile[];
  document: DocumentRecord | null;
}): ApplicationProfileDocument {
  const entries = containerEntries(input.profiles);
  const completed = input.profiles.length > 0 && input.profiles.every((p) => p.state.status === 'completed');
  if (input.document) {
    const doc = parseApplicationProfile(input.document.document);
    const lists = [doc.containers, doc.initContainers, doc.ephemeralContainers];
    const list = lists.find((l) => l.some((c) => c.name === input.document!.container)) ?? doc.containers;
    const index = Math.max(0, list.findIndex((c) => c.name === input.document!.container));
    const base = list[index];
    if (base) list.splice(index, 1, { ...base, ...entries });
    if (list === doc.containers) doc.containers = base ? [list[index]!] : [];
    return doc;
  }
  const name = input.info.container || input.workload.split('/').at(-1) || 'main';
  const labels: Record<string, string> =
    input.info.kind === 'kubernetes' && input.info.namespace
      ? { 'kubescape.io/workload-name': input.info.name, 'kubescape.io/workload-namespace': input.info.namespace }
      : {};
  const annotations = {
    'kubescape.io/status': completed ? 'completed' : 'learning',
    'kubescape.io/completion': completed ? 'complete' : 'partial',
    'soc-cockpit.io/workload': input.workload,
  };
  const metadata: Record<string, unknown> = { name: slug(input.workload) };
  if (input.info.namespace) metadata.namespace = input.info.namespace;
  return {
    name: slug(input.workload),
    namespace: input.info.namespace,
    annotations,
    labels,
    containers: [{ name, ...entries, rulePolicies: {}, raw: { name } }],
    initContainers: [],
    ephemeralContainers: [],
    raw: { apiVersion: KUBESCAPE_API_VERSION, kind: 'ApplicationProfile', metadata, spec: { containers: [] } },
  };
}

/** The workload-level profile first, then the executables (export order). */
export function exportOrder(profiles: readonly Profile[]): Profile[] {
  return [...profiles].sort((a, b) => (a.executable === WORKLOAD_PROFILE ? -1 : b.executable === WORKLOAD_PROFILE ? 1 : a.executable.localeCompare(b.executable)));
}
