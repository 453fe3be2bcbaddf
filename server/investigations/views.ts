import { parseExecId } from '../../db/ids';
import { createFileClassifier, fileAccessesFromIoUring, FORMAT_LABELS, isSystemLibrary, languageName, languagesDiffer, type Finding, type FindingKind, type Language, type Severity } from '../analyzers';
import type { EvidenceRowIndex, EvidenceRowInfo } from './evidenceRows';
import type { EvidenceTable } from './refs';
import type { Analysed } from './analysis';

/**
 * What the page's analysis panels draw (network, files, code, the evidence tree), built from one
 * analysis of an investigation's evidence (service.ts). Pure: the same analysis gives the same
 * views, which is what lets an ended investigation's views be computed once and stored
 * (storedAnalysis.ts). Everything here is JSON (ids, times in ns and counts as strings or numbers).
 */

export interface DestinationView {
  address: string;
  port: number;
  protocol: string;
  /** the internal service (service map), null when no entry covers it */
  service: string | null;
  serviceReason: string;
  contacts: number;
  firstNs: string;
  lastNs: string;
  intervalMedianMs: number | null;
  jitter: number | null;
  bytesOut: number;
  bytesIn: number;
  bytesOutPerContact: number;
  bytesInPerContact: number;
  periodic: { status: string; periodMs: number | null; confidence: number; reason: string };
  /** the captured prefixes' format (length_prefixed, tls_client_hello, http1_request, …), null when nothing was captured */
  payloadFormat: string | null;
  payloadFormatLabel: string | null;
  payloadReason: string | null;
  viaIoUringOnly: boolean;
  findingIds: string[];
  /** contact start times (at most MAX_CONTACTS, the first ones): the contact timeline */
  contactsNs: string[];
  /** intervals between consecutive contact starts (ms, same cap): the interval histogram */
  intervalsMs: number[];
  /** captured payload prefixes towards it (at most MAX_PREFIXES, the first ones) */
  prefixes: PayloadPrefixView[];
}

export interface PayloadPrefixView {
  tsNs: string;
  ref: string;
  /** bytes the send carried (the prefix is at most the zoom's payload_prefix_bytes of them) */
  bytes: number;
  hex: string;
  /** printable ASCII, '.' for every other byte */
  ascii: string;
}

export interface NetworkView {
  window: { startNs: string; endNs: string } | null;
  destinations: DestinationView[];
  findings: Finding[];
}

export interface FileRowView {
  path: string;
  /** sensitive file class, null for an ordinary file */
  class: string | null;
  classReason: string | null;
  op: 'open' | 'read' | 'write';
  viaIoUring: boolean;
  count: number;
  bytes: number;
  firstNs: string;
  lastNs: string;
}

export interface FilesView {
  files: FileRowView[];
  findings: Finding[];
}

export interface CodeModuleView {
  path: string;
  kind: 'executable' | 'shared_object' | 'native_module';
  language: Language;
  languageName: string;
  runtime: string | null;
  buildId: string | null;
  sha256: string | null;
  evidence: string[];
  /** a system or language-runtime library (never flagged as differing) */
  systemLibrary: boolean;
  differsFromWorkload: boolean;
  execId: string;
  firstSeenNs: string;
}

export interface CodeView {
  workload: { executable: string; language: Language; languageName: string; runtime: string | null } | null;
  modules: CodeModuleView[];
  provenance: { language: Language; differs: boolean; commonness: string; reason: string } | null;
  findings: Finding[];
}

// --- network, files, code -------------------------------------------------------------------------

const NETWORK_FINDINGS: ReadonlySet<FindingKind> = new Set(['network_destination', 'beaconing', 'payload_format']);

/** Contact times and intervals kept per destination (the first ones): enough to draw, bounded. */
const MAX_CONTACTS = 1000;
/** Payload prefixes kept per destination (the first ones). */
const MAX_PREFIXES = 32;

/** The first MAX_PREFIXES rows among `eventIds` that carry a payload prefix (only those are described). */
function firstPrefixes(rows: EvidenceRowIndex, eventIds: readonly string[]): PayloadPrefixView[] {
  const out: PayloadPrefixView[] = [];
  for (const eventId of eventIds) {
    if (out.length >= MAX_PREFIXES) break;
    if (!rows.hasPayload(eventId)) continue;
    const r: EvidenceRowInfo = rows.get(eventId)!;
    out.push({ tsNs: r.tsNs, ref: r.ref, bytes: r.bytes, hex: r.payloadHex, ascii: r.payloadAscii });
  }
  return out;
}

export function networkView(a: Analysed): NetworkView {
  const findings = a.analysis.findings.filter((f) => NETWORK_FINDINGS.has(f.kind));
  const destinations = a.analysis.destinations.map((d): DestinationView => {
    const p = d.pattern;
    return {
      address: p.destination.address,
      port: p.destination.port,
      protocol: p.destination.protocol,
      service: d.service.match?.name ?? null,
      serviceReason: d.service.reason,
      contacts: p.contacts.length,
      firstNs: p.firstNs,
      lastNs: p.lastNs,
      intervalMedianMs: p.intervalMedianMs,
      jitter: p.jitter,
      bytesOut: p.bytesOut,
      bytesIn: p.bytesIn,
      bytesOutPerContact: p.bytesOutPerContactMedian,
      bytesInPerContact: p.bytesInPerContactMedian,
      periodic: { status: p.verdict.status, periodMs: p.verdict.periodMs, confidence: p.verdict.confidence, reason: p.verdict.reason },
      payloadFormat: d.payload?.format ?? null,
      payloadFormatLabel: d.payload ? FORMAT_LABELS[d.payload.format] : null,
      payloadReason: d.payload?.reason ?? null,
      viaIoUringOnly: d.viaIoUringOnly,
      findingIds: findings.filter((f) => f.subject === d.key).map((f) => f.id),
      contactsNs: p.contacts.slice(0, MAX_CONTACTS).map((c) => c.startNs),
      intervalsMs: p.contacts.slice(1, MAX_CONTACTS).map((c, i) => Number(BigInt(c.startNs) - BigInt(p.contacts[i]!.startNs)) / 1e6),
      prefixes: firstPrefixes(a.rows, d.payloadEventIds),
    };
  });
  return { window: a.window, destinations, findings };
}

export function filesView(a: Analysed): FilesView {
  const classifier = createFileClassifier();
  const pid = parseExecId(a.record.execId)?.pid;
  // Every file the process touched, sensitive or not: the file probe's rows and the io_uring
  // requests it did not report (the same merge the analyzers make).
  const accesses = [...a.evidence.files, ...fileAccessesFromIoUring(a.evidence.ioUring, a.evidence.files)];
  const rows = new Map<string, FileRowView>();
  for (const f of accesses) {
    const viaIoUring = f.via === 'io_uring';
    const key = `${f.path}\u0000${f.op}\u0000${viaIoUring}`;
    let row = rows.get(key);
    if (!row) {
      const verdict = classifier.classify(f.path, pid !== undefined ? { pid } : {});
      row = { path: f.path, class: verdict ? String(verdict.class) : null, classReason: verdict?.reason ?? null, op: f.op, viaIoUring, count: 0, bytes: 0, firstNs: f.ts, lastNs: f.ts };
      rows.set(key, row);
    }
    row.count++;
    row.bytes += f.op === 'open' ? 0 : Math.max(0, f.bytes ?? 0);
    if (BigInt(f.ts) < BigInt(row.firstNs)) row.firstNs = f.ts;
    if (BigInt(f.ts) > BigInt(row.lastNs)) row.lastNs = f.ts;
  }
  const files = [...rows.values()].sort(
    (x, y) => Number(y.class !== null) - Number(x.class !== null) || x.path.localeCompare(y.path) || x.op.localeCompare(y.op) || Number(x.viaIoUring) - Number(y.viaIoUring),
  );
  return { files, findings: a.analysis.findings.filter((f) => f.kind === 'sensitive_file' || f.kind === 'io_uring_usage') };
}

export function codeView(a: Analysed): CodeView {
  const code = a.evidence.code;
  const executables = code.filter((c) => c.kind === 'executable');
  const exe = executables.find((c) => c.execId === a.record.execId) ?? executables[0];
  const seen = new Map<string, CodeModuleView>();
  for (const c of code) {
    const key = `${c.execId}\u0000${c.path}\u0000${c.sha256 ?? ''}`;
    if (seen.has(key)) continue;
    seen.set(key, {
      path: c.path,
      kind: c.kind,
      language: c.language,
      languageName: languageName(c.language),
      runtime: c.runtime?.name ?? null,
      buildId: c.buildId ?? null,
      sha256: c.sha256 ?? null,
      evidence: c.languageEvidence,
      // System and runtime libraries (libc, libstdc++, libnode…) are the platform, not the workload's
      // code: the same rule the provenance analysis applies.
      systemLibrary: isSystemLibrary(c.path),
      differsFromWorkload: exe ? c !== exe && c.path !== exe.path && !isSystemLibrary(c.path) && languagesDiffer(exe.language, c.language) : false,
      execId: c.execId,
      firstSeenNs: c.ts ?? '',
    });
  }
  const p = a.analysis.provenance;
  return {
    workload: exe ? { executable: exe.path, language: exe.language, languageName: languageName(exe.language), runtime: exe.runtime?.name ?? null } : null,
    modules: [...seen.values()].sort((x, y) => Number(y.kind === 'executable') - Number(x.kind === 'executable') || Number(y.differsFromWorkload) - Number(x.differsFromWorkload) || x.path.localeCompare(y.path)),
    provenance: p ? { language: p.language, differs: p.differs, commonness: p.commonness, reason: p.reason } : null,
    findings: a.analysis.findings.filter((f) => f.kind === 'code_provenance'),
  };
}

// --- the evidence tree ----------------------------------------------------------------------------

export interface EvidenceRowView {
  ref: string;
  table: EvidenceTable;
  tsNs: string;
  execId: string;
  summary: string;
}

export interface EvidenceFindingView {
  id: string;
  kind: FindingKind;
  title: string;
  reason: string;
  severity: Severity;
  /** what it is about: a destination, a path, an exec id, a module */
  subject: string;
  /** the first MAX_ROWS_PER_FINDING supporting rows, oldest first */
  rows: EvidenceRowView[];
  /** every supporting row, shown or not */
  rowsTotal: number;
}

export const MAX_ROWS_PER_FINDING = 100;

/** Every finding with the stored rows it rests on (each with its ref, so every row links to itself). */
export function evidenceFindings(a: Analysed): EvidenceFindingView[] {
  return a.analysis.findings.map((f): EvidenceFindingView => {
    // Oldest first (ties in the finding's order: the sort is stable); only the rows shown are described.
    const rows = f.evidence
      .flatMap((eventId) => {
        const ts = a.rows.tsNs(eventId);
        return ts === undefined ? [] : [{ eventId, ts: BigInt(ts) }];
      })
      .sort((x, y) => (x.ts < y.ts ? -1 : x.ts > y.ts ? 1 : 0))
      .slice(0, MAX_ROWS_PER_FINDING)
      .map(({ eventId }) => {
        const r = a.rows.get(eventId)!;
        return { ref: r.ref, table: r.table, tsNs: r.tsNs, execId: r.execId, summary: r.summary };
      });
    return { id: f.id, kind: f.kind, title: f.title, reason: f.reason, severity: f.severity, subject: f.subject, rows, rowsTotal: f.evidence.length + f.evidenceOmitted };
  });
}
