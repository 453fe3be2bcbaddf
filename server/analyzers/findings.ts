/**
 * Findings: the middle layer of the evidence tree (indicator -> findings -> evidence rows).
 *
 * `analyzeInvestigation` runs every analyzer over an investigation's evidence and turns what
 * they say into findings an analyst can act on, each with a severity, a title, a reason that
 * says why, and the ids of the rows it rests on:
 *
 *   network_destination  one per destination the process contacted: the service it is (service
 *                        map) or why it is unknown; unknown internal addresses stand out
 *   beaconing            one per destination contacted periodically
 *   payload_format       one per destination the process sent captured bytes to
 *   sensitive_file       one per sensitive path opened, read or written
 *   io_uring_usage       one per process that submitted io_uring requests
 *   code_provenance      the module the activity points to, or modules in another language
 *
 * Severity rules (each stated in the reason):
 *   - a destination no service map entry covers is `medium` when internal, `high` when it is a
 *     cloud metadata endpoint, `low` otherwise; a known service is `info`;
 *   - beaconing is `high` to an unknown internal destination, `medium` to another unknown one,
 *     `low` to a known service (health checks and polling are periodic too);
 *   - payloads: standard protocols and structured encodings are `info`; custom binary framing,
 *     high entropy outside TLS or unrecognised binary are `low`; binary of either kind (gob,
 *     MessagePack and protobuf included) towards a destination that is no known service is one
 *     level more; a Go gob stream from a workload that is not Go is one level more; a credential
 *     in the bytes (a JWT, a private key) is `critical`;
 *   - sensitive files take their class's severity, one level more when written; a
 *     service-account token whose JWT is then seen in sent bytes is `critical`;
 *   - io_uring: `critical` when sensitive files are read and the network is used through the
 *     ring, `high` for sensitive files, `medium` for network I/O, `info` when a JavaScript
 *     runtime uses only the opcodes libuv uses for file I/O, `low` otherwise;
 *   - code provenance: the module the activity comes from, by how unusual its language is in
 *     the workload (rare `high`, uncommon `medium`, common `low`); without that pointer, modules
 *     in a rare or uncommon language are candidates (`medium`, `low`).
 *
 * Ids are deterministic: a hash of the kind and the finding's key (destination, path, process,
 * module), so analysing the same evidence again gives the same ids, and more evidence about the
 * same subject updates a finding rather than adding one.
 */
import { createHash } from 'node:crypto';
import { analyzeContacts, type BeaconOptions, type ContactPattern } from './beaconing';
import { codeProvenance, languageName, type ModuleProvenance, type ProvenanceVerdict } from './codeProvenance';
import { createFileClassifier, type FileClassifier, type FileClassVerdict } from './fileClass';
import { addressScope, formatEndpoint, formatIp, isInternalScope, parseIp } from './ip';
import { fileAccessesFromIoUring, opcodeCategory, socketEventsFromIoUring } from './ioUringEvidence';
import { classifyFlow, type FlowVerdict, type PayloadFormat } from './payloadFormat';
import type { ServiceLookup, ServiceMap } from './serviceMap';
import { formatDuration, diffMs, formatCount, parseNs, plural } from './time';
import { SEVERITY_ORDER, type CodeFingerprint, type FileAccess, type InvestigationEvidence, type IoUringOp, type Language, type Severity, type SocketEvent } from './types';

export type FindingKind = 'network_destination' | 'beaconing' | 'payload_format' | 'sensitive_file' | 'io_uring_usage' | 'code_provenance';

export interface Finding {
  /** "f-" + 16 hex digits of sha256(kind, key): stable across analyses */
  id: string;
  kind: FindingKind;
  /** what the finding is about: a destination ("10.0.3.7:4444/tcp"), a path, an exec id, a module path */
  subject: string;
  severity: Severity;
  title: string;
  reason: string;
  /** evidence row ids (socket events, io_uring requests, file accesses, code fingerprints) */
  evidence: string[];
  /** row ids left out beyond `maxEvidencePerFinding` */
  evidenceOmitted: number;
}

export interface AnalyzerConfig {
  serviceMap?: ServiceMap;
  fileClassifier?: FileClassifier;
  beacon?: Partial<BeaconOptions>;
  /** row ids kept per finding (default 500); the rest is counted in `evidenceOmitted` */
  maxEvidencePerFinding?: number;
}

export interface DestinationAnalysis {
  key: string;
  pattern: ContactPattern;
  service: ServiceLookup;
  /** null when no send to the destination carried captured bytes */
  payload: FlowVerdict | null;
  payloadEventIds: string[];
  /** every event towards the destination went through io_uring */
  viaIoUringOnly: boolean;
}

export interface FileAnalysis {
  path: string;
  verdict: FileClassVerdict;
  opens: number;
  reads: number;
  writes: number;
  bytesRead: number;
  bytesWritten: number;
  viaIoUring: number;
  eventIds: string[];
}

export interface IoUringAnalysis {
  execId: string;
  requests: number;
  failed: number;
  /** opcode -> count */
  opcodes: Record<string, number>;
  networkRequests: number;
  fileRequests: number;
  /** destinations reached through the ring */
  destinations: string[];
  /** sensitive paths opened through the ring, with their class */
  sensitivePaths: Array<{ path: string; class: string }>;
  eventIds: string[];
}

export interface InvestigationAnalysis {
  findings: Finding[];
  destinations: DestinationAnalysis[];
  files: FileAnalysis[];
  ioUring: IoUringAnalysis[];
  provenance: ProvenanceVerdict | null;
}

const DEFAULT_MAX_EVIDENCE = 500;

/** Cloud instance metadata endpoints: where instance credentials are handed out. */
const METADATA_ENDPOINTS = new Set(['169.254.169.254', 'fd00:ec2::254', '100.100.100.200']);

/** Opcodes libuv (Node's event loop) submits through io_uring: file I/O and epoll control only. */
const LIBUV_OPCODES = new Set(['OPENAT', 'CLOSE', 'READ', 'WRITE', 'FSYNC', 'STATX', 'RENAMEAT', 'UNLINKAT', 'MKDIRAT', 'LINKAT', 'SYMLINKAT', 'FTRUNCATE', 'EPOLL_CTL']);

export function findingId(kind: FindingKind, key: string): string {
  return `f-${createHash('sha256').update(`${kind}\n${key}`).digest('hex').slice(0, 16)}`;
}

function raise(s: Severity, levels = 1): Severity {
  return SEVERITY_ORDER[Math.min(SEVERITY_ORDER.length - 1, SEVERITY_ORDER.indexOf(s) + levels)]!;
}

/** Rows in time order (stable), each time parsed once rather than in the comparator. */
function byTime<T extends { ts: string }>(rows: readonly T[]): T[] {
  return rows
    .map((row) => ({ row, t: parseNs(row.ts) }))
    .sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : 0))
    .map((x) => x.row);
}

class FindingList {
  readonly items: Finding[] = [];
  constructor(private readonly maxEvidence: number) {}

  add(kind: FindingKind, subject: string, severity: Severity, title: string, reason: string, evidence: readonly string[]): void {
    const unique = [...new Set(evidence)];
    this.items.push({
      id: findingId(kind, subject), kind, subject, severity, title, reason,
      evidence: unique.slice(0, this.maxEvidence), evidenceOmitted: Math.max(0, unique.length - this.maxEvidence),
    });
  }
}

// ---- evidence preparation --------------------------------------------------------------------

function allSocketEvents(e: InvestigationEvidence): SocketEvent[] {
  return byTime([...e.sockets, ...socketEventsFromIoUring(e.ioUring, e.sockets)]);
}

function allFileAccesses(e: InvestigationEvidence): FileAccess[] {
  return byTime([...e.files, ...fileAccessesFromIoUring(e.ioUring, e.files)]);
}

function unmappedLookup(pattern: ContactPattern): ServiceLookup {
  const ip = parseIp(pattern.destination.address);
  const endpoint = formatEndpoint(pattern.destination.address, pattern.destination.port);
  const scope = ip ? addressScope(ip) : null;
  return { destination: pattern.destination, endpoint, match: null, scope, reason: `no service map configured; ${endpoint} is a ${scope ?? 'non-IP'} address` };
}

/**
 * A flow's format is judged on at most this many of its sends: a beacon at 10 Hz sends tens of
 * thousands of identical frames in a zoom, and classifying every one costs seconds without
 * changing the verdict. Evenly spread, so a change of format along the flow is still seen.
 */
const MAX_CLASSIFIED_SENDS = 512;

function sampleEvenly<T>(items: readonly T[], max: number): readonly T[] {
  if (items.length <= max) return items;
  const step = (items.length - 1) / (max - 1);
  return Array.from({ length: max }, (_, i) => items[Math.round(i * step)]!);
}

function analyzeDestinations(events: readonly SocketEvent[], e: InvestigationEvidence, config: AnalyzerConfig): DestinationAnalysis[] {
  const patterns = analyzeContacts(events, { ...config.beacon, window: config.beacon?.window ?? e.window });
  return patterns.map((pattern) => {
    const ids = new Set(pattern.contacts.flatMap((c) => c.eventIds));
    const mine = events.filter((ev) => ids.has(ev.id));
    const allSends = mine.filter((ev) => ev.op === 'send' && ev.payloadPrefix);
    const sends = sampleEvenly(allSends, MAX_CLASSIFIED_SENDS);
    const payload = sends.length > 0 ? classifyFlow(sends.map((s) => ({ prefix: s.payloadPrefix!, size: s.bytes }))) : null;
    if (payload && sends.length < allSends.length) payload.reason += `; judged on ${sends.length} of ${allSends.length} sends, evenly spread over time`;
    return {
      key: pattern.key,
      pattern,
      service: config.serviceMap?.lookup(pattern.destination) ?? unmappedLookup(pattern),
      payload,
      payloadEventIds: sends.map((s) => s.id),
      viaIoUringOnly: mine.length > 0 && mine.every((ev) => ev.via === 'io_uring'),
    };
  });
}

function analyzeFiles(accesses: readonly FileAccess[], classifier: FileClassifier, pid: number | undefined): FileAnalysis[] {
  const byPath = new Map<string, FileAnalysis>();
  for (const a of accesses) {
    const verdict = classifier.classify(a.path, { pid });
    if (!verdict) continue;
    const key = verdict.normalizedPath;
    const f = byPath.get(key) ?? { path: key, verdict, opens: 0, reads: 0, writes: 0, bytesRead: 0, bytesWritten: 0, viaIoUring: 0, eventIds: [] };
    if (a.op === 'open') f.opens++;
    else if (a.op === 'read') { f.reads++; f.bytesRead += a.bytes ?? 0; }
    else { f.writes++; f.bytesWritten += a.bytes ?? 0; }
    if (a.via === 'io_uring') f.viaIoUring++;
    f.eventIds.push(a.id);
    byPath.set(key, f);
  }
  return [...byPath.values()];
}

function analyzeIoUring(ops: readonly IoUringOp[], files: readonly FileAnalysis[], accesses: readonly FileAccess[]): IoUringAnalysis[] {
  const byExec = new Map<string, IoUringOp[]>();
  for (const op of ops) {
    const list = byExec.get(op.execId);
    if (list) list.push(op);
    else byExec.set(op.execId, [op]);
  }
  const ringAccesses = new Map(accesses.filter((a) => a.via === 'io_uring').map((a) => [a.id, a]));
  return [...byExec.entries()].map(([execId, list]) => {
    const opcodes: Record<string, number> = {};
    for (const op of list) opcodes[op.opcode] = (opcodes[op.opcode] ?? 0) + 1;
    const sensitivePaths = files
      .filter((f) => f.eventIds.some((id) => ringAccesses.get(id)?.execId === execId))
      .map((f) => ({ path: f.path, class: String(f.verdict.class) }));
    const destinations = [...new Set(list.filter((op) => op.remote).map((op) => formatEndpoint(op.remote!.address, op.remote!.port)))];
    return {
      execId,
      requests: list.length,
      failed: list.filter((op) => op.result < 0).length,
      opcodes,
      networkRequests: list.filter((op) => opcodeCategory(op.opcode) === 'network').length,
      fileRequests: list.filter((op) => opcodeCategory(op.opcode) === 'file').length,
      destinations,
      sensitivePaths,
      eventIds: list.map((op) => op.id),
    };
  });
}

/** The module most suspicious rows point to (their `origin.modulePath`), if any does. */
function responsibleModule(rows: ReadonlyArray<{ origin?: { modulePath?: string } }>): string | undefined {
  const counts = new Map<string, number>();
  for (const r of rows) if (r.origin?.modulePath) counts.set(r.origin.modulePath, (counts.get(r.origin.modulePath) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0];
}

function mainExecutable(e: InvestigationEvidence): CodeFingerprint | undefined {
  const exes = e.code.filter((c) => c.kind === 'executable');
  return exes.find((c) => c.execId === e.process?.execId) ?? exes[0];
}

/**
 * Provenance of the suspicious activity: the rows that matter (network requests through the
 * ring, sensitive file accesses, traffic to unknown destinations) vote for the module their
 * stacks point into.
 */
function analyzeProvenance(
  evidence: InvestigationEvidence,
  exe: CodeFingerprint | undefined,
  parts: { sockets: readonly SocketEvent[]; accesses: readonly FileAccess[]; files: readonly FileAnalysis[]; destinations: readonly DestinationAnalysis[] },
): { provenance: ProvenanceVerdict | null; rowsByModule: Map<string, string[]> } {
  const sensitiveIds = new Set(parts.files.flatMap((f) => f.eventIds));
  const unknownIds = new Set(parts.destinations.filter((d) => !d.service.match).flatMap((d) => d.pattern.contacts.flatMap((c) => c.eventIds)));
  const suspicious = [
    ...evidence.ioUring.filter((op) => opcodeCategory(op.opcode) === 'network' || sensitiveIds.has(op.id)),
    ...parts.accesses.filter((a) => sensitiveIds.has(a.id)),
    ...parts.sockets.filter((s) => unknownIds.has(s.id)),
  ];
  const rowsByModule = new Map<string, string[]>();
  for (const r of suspicious) {
    const path = r.origin?.modulePath;
    if (path) rowsByModule.set(path, [...(rowsByModule.get(path) ?? []), r.id]);
  }
  if (!exe) return { provenance: null, rowsByModule };
  const modules = evidence.code.filter((c) => c !== exe && c.execId === exe.execId);
  return { provenance: codeProvenance({ executable: exe, modules, responsible: { modulePath: responsibleModule(suspicious) } }), rowsByModule };
}

// ---- findings --------------------------------------------------------------------------------

function destinationName(d: DestinationAnalysis): string {
  return d.service.match ? `${d.service.match.name} (${d.service.endpoint})` : d.service.endpoint;
}

function isUnknownInternal(d: DestinationAnalysis): boolean {
  return !d.service.match && d.service.scope !== null && isInternalScope(d.service.scope) && d.service.scope !== 'loopback';
}

function isMetadataEndpoint(address: string): boolean {
  const ip = parseIp(address);
  return ip !== null && METADATA_ENDPOINTS.has(formatIp(ip));
}

function destinationFinding(list: FindingList, d: DestinationAnalysis): void {
  const p = d.pattern;
  const contacts = p.contacts.length;
  const span = contacts > 1 ? ` over ${formatDuration(diffMs(parseNs(p.firstNs), parseNs(p.lastNs)))}` : '';
  const traffic = `${plural(contacts, 'contact')}${span}, ${formatCount(p.bytesOut)} bytes out, ${formatCount(p.bytesIn)} in${d.viaIoUringOnly ? ', all through io_uring' : ''}`;
  const address = d.pattern.destination.address;
  let severity: Severity;
  let title: string;
  let why = '';
  if (d.service.match) {
    severity = 'info';
    title = `Contacts ${destinationName(d)}`;
  } else if (isMetadataEndpoint(address)) {
    severity = 'high';
    title = `Contacts the cloud metadata endpoint ${d.service.endpoint}`;
    why = '; the instance metadata service hands out the node\'s cloud credentials';
  } else if (isUnknownInternal(d)) {
    severity = 'medium';
    title = `Contacts an unknown internal address ${d.service.endpoint}`;
    why = '; an internal destination that is no known service';
  } else {
    severity = 'low';
    title = `Contacts ${d.service.scope ?? 'unknown'} address ${d.service.endpoint}`;
  }
  list.add('network_destination', d.key, severity, title, `${d.service.reason}${why}; ${traffic}`, p.contacts.flatMap((c) => c.eventIds));
}

function beaconFinding(list: FindingList, d: DestinationAnalysis): void {
  const v = d.pattern.verdict;
  if (!v.periodic || v.periodMs === null) return;
  const severity: Severity = d.service.match ? 'low' : isUnknownInternal(d) ? 'high' : 'medium';
  const who = d.service.match ? `known service ${d.service.match.name}` : isUnknownInternal(d) ? 'an internal address that is no known service' : 'an address that is no known service';
  const perContact = `${formatCount(d.pattern.bytesOutPerContactMedian)} bytes out and ${formatCount(d.pattern.bytesInPerContactMedian)} in per contact (median)`;
  list.add(
    'beaconing', d.key, severity,
    `Beacons every ${formatDuration(v.periodMs)} to ${destinationName(d)}`,
    `${v.reason}; ${perContact}; destination: ${who} (confidence ${v.confidence})`,
    d.pattern.contacts.flatMap((c) => c.eventIds),
  );
}

/** How each payload format is named in findings and tables. */
export const FORMAT_LABELS: Record<PayloadFormat, string> = {
  empty: 'Empty payloads', tls_client_hello: 'TLS', tls_record: 'TLS records', http2: 'HTTP/2', http1_request: 'HTTP/1 requests',
  http1_response: 'HTTP/1 responses', json: 'JSON', gob: 'Go gob', msgpack: 'MessagePack', protobuf: 'Protobuf',
  length_prefixed: 'Length-prefixed binary', text: 'Plain text', high_entropy: 'High-entropy data', binary: 'Unrecognised binary',
};

const CUSTOM_BINARY: ReadonlySet<PayloadFormat> = new Set(['length_prefixed', 'high_entropy', 'binary']);
const STRUCTURED_BINARY: ReadonlySet<PayloadFormat> = new Set(['gob', 'msgpack', 'protobuf']);

function credentialLabel(c: FlowVerdict['credentials'][number]): string {
  if (c.kind === 'jwt') return c.jwt?.kubernetesServiceAccount ? 'a Kubernetes service-account token' : 'a JWT';
  return c.kind === 'private_key' ? 'a private key' : 'an AWS access key id';
}

function payloadFinding(list: FindingList, d: DestinationAnalysis, workloadLanguage: Language | undefined): void {
  const flow = d.payload;
  if (!flow) return;
  const notes: string[] = [];
  let severity: Severity = CUSTOM_BINARY.has(flow.format) ? 'low' : 'info';
  if (!d.service.match && (CUSTOM_BINARY.has(flow.format) || STRUCTURED_BINARY.has(flow.format))) {
    severity = raise(severity);
    notes.push('binary data to a destination that is no known service');
  }
  if (flow.format === 'gob' && workloadLanguage && workloadLanguage !== 'go' && workloadLanguage !== 'unknown') {
    severity = raise(severity);
    notes.push(`gob is Go's own encoding, and the workload is ${languageName(workloadLanguage)}`);
  }
  if (flow.format === 'high_entropy') notes.push('high entropy outside TLS: encrypted or compressed by the application itself');
  let title = `${FORMAT_LABELS[flow.format]} to ${destinationName(d)}`;
  if (flow.credentials.length > 0) {
    severity = 'critical';
    const c = flow.credentials[0]!;
    notes.unshift(`credential in the bytes sent: ${c.description} in message ${c.message + 1}`);
    title = `Sends ${credentialLabel(c)} to ${destinationName(d)}`;
  }
  list.add('payload_format', d.key, severity, title, [flow.reason, ...notes].join('; '), d.payloadEventIds);
}

const CLASS_LABELS: Record<string, string> = {
  service_account_token: 'a service-account token', kubernetes_ca: 'the Kubernetes CA certificate', kubernetes_namespace: 'the pod namespace file',
  kube_config: 'a kubeconfig', kubernetes_node_credentials: 'Kubernetes node credentials', shadow: 'password hashes', cloud_credentials: 'cloud credentials',
  ssh_key: 'an SSH private key', ssh_authorized_keys: 'SSH authorized keys', tls_private_key: 'a TLS private key', docker_config: 'registry credentials',
  browser_credentials: 'browser credentials', credential_cache: 'stored tool credentials', container_runtime_socket: 'the container runtime socket',
  process_environ: 'another process\'s environment', process_memory: 'another process\'s memory',
};

function fileFinding(list: FindingList, f: FileAnalysis, jwtDestinations: readonly string[]): void {
  const v = f.verdict;
  let severity = v.severity;
  const ops = [
    ...(f.opens > 0 ? [f.opens === 1 ? 'opened once' : `opened ${formatCount(f.opens)} times`] : []),
    ...(f.reads > 0 ? [`read ${formatCount(f.bytesRead)} bytes in ${plural(f.reads, 'read')}`] : []),
    ...(f.writes > 0 ? [`written ${formatCount(f.bytesWritten)} bytes in ${plural(f.writes, 'write')}`] : []),
  ];
  const total = f.opens + f.reads + f.writes;
  const via = f.viaIoUring === total ? ', all through io_uring (no open/read syscall of its own)' : f.viaIoUring > 0 ? `, ${f.viaIoUring} through io_uring` : '';
  const notes: string[] = [];
  if (f.writes > 0) {
    severity = raise(severity);
    notes.push('written, not only read');
  }
  if (v.class === 'service_account_token' && jwtDestinations.length > 0) {
    severity = 'critical';
    notes.push(`a service-account JWT appears in bytes sent to ${jwtDestinations.join(', ')}`);
  }
  const verb = f.writes > 0 ? 'Writes' : f.reads > 0 ? 'Reads' : 'Opens';
  const label = CLASS_LABELS[String(v.class)] ?? `a ${String(v.class)} file`;
  list.add('sensitive_file', f.path, severity, `${verb} ${label}: ${f.path}`, [`${v.reason}; ${ops.join(', ')}${via}`, ...notes].join('; '), f.eventIds);
}

function ioUringFinding(list: FindingList, u: IoUringAnalysis, jsRuntime: boolean): void {
  const counts = Object.entries(u.opcodes).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([op, n]) => `${op} ×${n}`).join(', ');
  const notes: string[] = [];
  let severity: Severity = 'low';
  const libuvOnly = Object.keys(u.opcodes).every((op) => LIBUV_OPCODES.has(op));
  if (jsRuntime && libuvOnly && u.sensitivePaths.length === 0) {
    severity = 'info';
    notes.push('consistent with libuv (Node\'s event loop), which uses io_uring for file I/O');
  }
  if (u.networkRequests > 0) {
    severity = 'medium';
    notes.push(`network I/O through the ring${u.destinations.length > 0 ? ` to ${u.destinations.slice(0, 3).join(', ')}` : ''}${jsRuntime ? '; libuv never uses io_uring for sockets' : ''}`);
  }
  if (u.sensitivePaths.length > 0) {
    severity = u.networkRequests > 0 ? 'critical' : 'high';
    notes.push(`sensitive files through the ring: ${u.sensitivePaths.slice(0, 3).map((p) => `${p.path} (${p.class})`).join(', ')}`);
  }
  const what = [...(u.fileRequests > 0 ? ['files'] : []), ...(u.networkRequests > 0 ? ['the network'] : [])].join(' and ') || 'other operations';
  const failed = u.failed > 0 ? ` (${u.failed} failed)` : '';
  list.add(
    'io_uring_usage', u.execId, severity, `Uses io_uring for ${what}`,
    [`${plural(u.requests, 'request')}${failed}: ${counts}; none of them appears as its own syscall, only io_uring_enter`, ...notes].join('; '),
    u.eventIds,
  );
}

const PROVENANCE_SEVERITY: Partial<Record<string, Severity>> = { rare: 'high', uncommon: 'medium', common: 'low' };
// A common pairing (a C addon in a Node app) is still shown, as information: in an investigation the
// analyst needs to see which foreign code was loaded even when that kind of code is ordinary.
const CANDIDATE_SEVERITY: Partial<Record<string, Severity>> = { rare: 'medium', uncommon: 'low', common: 'info' };

function moduleTitle(m: ModuleProvenance, p: ProvenanceVerdict, pointed: boolean): string {
  const lang = languageName(m.language);
  const kind = m.kind === 'native_module' ? 'native module' : m.kind === 'shared_object' ? 'shared object' : 'executable';
  const name = m.path.split('/').pop();
  const host = p.workloadLanguage === 'unknown' ? 'the workload' : `a ${languageName(p.workloadLanguage)} workload`;
  return pointed ? `Activity comes from a ${lang} ${kind} inside ${host}: ${name}` : `${lang} ${kind} loaded into ${host}: ${name}`;
}

function provenanceFindings(list: FindingList, p: ProvenanceVerdict, rowsByModule: ReadonlyMap<string, string[]>): void {
  if (p.responsible?.differs) {
    const r = p.responsible;
    const severity = PROVENANCE_SEVERITY[r.commonness] ?? 'low';
    list.add('code_provenance', r.path, severity, moduleTitle(r, p, true), `${r.reason}; the evidence points to it`, [r.fingerprintId, ...(rowsByModule.get(r.path) ?? [])]);
    return;
  }
  if (p.responsible) return;
  for (const c of p.candidates) {
    const severity = CANDIDATE_SEVERITY[c.commonness];
    if (!severity) continue;
    list.add('code_provenance', c.path, severity, moduleTitle(c, p, false), `${c.reason}; the evidence does not say which code did the activity, so this is a candidate`, [c.fingerprintId]);
  }
}

const KIND_ORDER: readonly FindingKind[] = ['sensitive_file', 'payload_format', 'beaconing', 'network_destination', 'io_uring_usage', 'code_provenance'];

function sortFindings(findings: Finding[]): Finding[] {
  return findings.sort(
    (a, b) =>
      SEVERITY_ORDER.indexOf(b.severity) - SEVERITY_ORDER.indexOf(a.severity) ||
      KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) ||
      a.subject.localeCompare(b.subject),
  );
}

/** Runs every analyzer over an investigation's evidence and assembles the findings. */
export function analyzeInvestigation(evidence: InvestigationEvidence, config: AnalyzerConfig = {}): InvestigationAnalysis {
  const sockets = allSocketEvents(evidence);
  const accesses = allFileAccesses(evidence);
  const classifier = config.fileClassifier ?? createFileClassifier();
  const destinations = analyzeDestinations(sockets, evidence, config);
  const files = analyzeFiles(accesses, classifier, evidence.process?.pid);
  const ioUring = analyzeIoUring(evidence.ioUring, files, accesses);

  const exe = mainExecutable(evidence);
  const { provenance, rowsByModule } = analyzeProvenance(evidence, exe, { sockets, accesses, files, destinations });

  const list = new FindingList(config.maxEvidencePerFinding ?? DEFAULT_MAX_EVIDENCE);
  const jwtDestinations = destinations.filter((d) => d.payload?.credentials.some((c) => c.kind === 'jwt')).map((d) => d.service.endpoint);
  for (const d of destinations) {
    destinationFinding(list, d);
    beaconFinding(list, d);
    payloadFinding(list, d, exe?.language);
  }
  for (const f of files) fileFinding(list, f, jwtDestinations);
  const jsRuntime = exe?.language === 'javascript';
  for (const u of ioUring) ioUringFinding(list, u, jsRuntime);
  if (provenance) provenanceFindings(list, provenance, rowsByModule);
  return { findings: sortFindings(list.items), destinations, files, ioUring, provenance };
}

