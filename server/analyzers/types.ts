/**
 * Evidence the analyzers read: plain data, independent of storage and of the sensor's wire
 * format, so both can map onto it (the repositories from ClickHouse rows, the sensor from its
 * zoom-in records).
 *
 * Conventions (docs/ARCHITECTURE.md, "Timestamps and ids"):
 *   - timestamps are nanoseconds since the Unix epoch as decimal strings (`NsTimestamp`); the
 *     analyzers turn them into bigint once (`time.ts`) and compute durations in milliseconds;
 *   - ids (evidence rows, exec ids, socket cookies) are strings;
 *   - payload prefixes are the first bytes the sensor captured (at most 256), as Uint8Array.
 */

/** Nanoseconds since the Unix epoch, as a decimal string ("1718000000123456789"). */
export type NsTimestamp = string;

export type Transport = 'tcp' | 'udp';

/** How the process asked the kernel: its own syscall, or a request submitted through io_uring. */
export type Via = 'syscall' | 'io_uring';

export type Severity = 'info' | 'low' | 'medium' | 'high' | 'critical';

export const SEVERITY_ORDER: readonly Severity[] = ['info', 'low', 'medium', 'high', 'critical'];

export interface Endpoint {
  /** IPv4 dotted quad or IPv6 text (an IPv4-mapped IPv6 address is treated as IPv4) */
  address: string;
  port: number;
}

/**
 * Which code the sensor attributes an event to, when it can tell (user stack of the thread
 * that submitted the syscall or the io_uring request). All fields are optional: io_uring's own
 * worker threads (`iou-wrk-*`, `iou-sqp-*`) do the work of the submitter and say nothing about
 * the code that asked for it.
 */
export interface CodeOrigin {
  tid?: number;
  threadName?: string;
  /** path of the mapped module (executable, shared object, native addon) the stack points into */
  modulePath?: string;
}

interface EvidenceRow {
  /** evidence row id (what findings refer to) */
  id: string;
  ts: NsTimestamp;
  /** the process image (docs/ARCHITECTURE.md, "Identity: exec ids") */
  execId: string;
  origin?: CodeOrigin;
}

export type SocketOp = 'connect' | 'accept' | 'send' | 'recv';

/** A socket operation seen by a zoom-in socket probe (through a syscall or io_uring). */
export interface SocketEvent extends EvidenceRow {
  op: SocketOp;
  protocol: Transport;
  local?: Endpoint;
  /** the peer: for connect/send/recv of a client, the destination */
  remote: Endpoint;
  /** bytes moved by a send or recv; 0 for connect and accept */
  bytes: number;
  /** first bytes of a sent (or received) payload, at most 256 */
  payloadPrefix?: Uint8Array;
  /** the kernel's 64-bit socket cookie, as a decimal string: ties events of one connection */
  socketCookie?: string;
  via: Via;
  /** 0 or a byte count on success, a negative errno on failure (connect: -115 EINPROGRESS is a start) */
  result?: number;
}

/** One io_uring request (submission and completion) seen by a zoom-in io_uring probe. */
export interface IoUringOp extends EvidenceRow {
  /** the opcode without its IORING_OP_ prefix: "OPENAT", "READ", "CONNECT", "SEND", ... */
  opcode: string;
  fd?: number;
  /** path of OPENAT/STATX/... (from the SQE), or of the file behind `fd` at completion */
  path?: string;
  /** socket peer of CONNECT/SEND/SENDMSG/RECV... */
  remote?: Endpoint;
  protocol?: Transport;
  /** the CQE result: >= 0 success (a new fd for OPENAT, a byte count for READ/SEND), < 0 -errno */
  result: number;
  bytes?: number;
  payloadPrefix?: Uint8Array;
}

export type FileOp = 'open' | 'read' | 'write';

/** A file access seen by a zoom-in file probe. */
export interface FileAccess extends EvidenceRow {
  path: string;
  op: FileOp;
  bytes?: number;
  via: Via;
  result?: number;
}

export type CodeKind = 'executable' | 'shared_object' | 'native_module';

export type Language =
  | 'javascript'
  | 'python'
  | 'java'
  | 'ruby'
  | 'php'
  | 'dotnet'
  | 'go'
  | 'rust'
  | 'c'
  | 'cpp'
  | 'zig'
  | 'unknown';

/** The sensor's fingerprint of one mapped file of code. */
export interface CodeFingerprint {
  id: string;
  ts?: NsTimestamp;
  execId: string;
  path: string;
  kind: CodeKind;
  /**
   * The language of the code the file holds — or, for an executable that is a language runtime
   * (node, python3, java), the language of the code it runs: node is 'javascript'.
   */
  language: Language;
  /** why the sensor says so, readable: "rustc 1.76.0 in .comment", "Go build info go1.22.1" */
  languageEvidence: string[];
  /** set for an executable that is a language runtime: { name: 'node', version: 'v20.11.1' } */
  runtime?: { name: string; version?: string };
  buildId?: string;
  sha256?: string;
}

/** Everything one investigation collected (one process image, or a few). */
export interface InvestigationEvidence {
  sockets: SocketEvent[];
  ioUring: IoUringOp[];
  files: FileAccess[];
  code: CodeFingerprint[];
  /** the observation window (zoom start to end, or to now): lets beaconing tell "stopped" */
  window?: { startNs: NsTimestamp; endNs: NsTimestamp };
  /** the process under investigation (pid tells /proc/<pid>/... of itself from another's) */
  process?: { execId?: string; pid?: number };
}
