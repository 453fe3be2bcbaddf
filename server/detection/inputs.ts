import { Direction, FactKind, FactVia, type Event, type Fact, type Workload } from '../../sensor/gen/soc/sensor/v1/sensor';
import type { IndicatorKind } from '../../db/repositories/indicators';

/**
 * What the detector keeps of each stored event (the collector hands it these, not the events):
 * execs (the lifecycle it needs for exec entries, parents and executables) and facts, each fact
 * already turned into the (kind, value) a profile entry has. Small objects: they live only from
 * the moment a unit is filled until the detector has processed it.
 */

export interface WorkloadInfo {
  key: string;
  kind: string;
  namespace: string;
  name: string;
  container: string;
}

export interface ExecInput {
  type: 'exec';
  node: string;
  execId: string;
  parentExecId: string;
  tsNs: string;
  binary: string;
  /** the arguments as decoded (not copied: bounded when an entry is made of them, execDetail) */
  argv: string[];
  seeded: boolean;
  own: boolean;
  /** null: the sensor did not say (an older sensor or a recording) */
  workload: WorkloadInfo | null;
}

export interface FactInput {
  type: 'fact';
  node: string;
  execId: string;
  pid: number;
  tsNs: string;
  own: boolean;
  /** the workload key the sensor put on the fact ('' when it did not) */
  workload: string;
  kind: IndicatorKind;
  value: string;
  /**
   * The decoded fact (not copied): its kind-specific fields (flags, address, class, ring flags)
   * are turned into an entry's detail only when one is learned or raised (factDetail).
   */
  fact: Fact | null;
  /** a detail given directly (tests) instead of the fact's */
  detail?: Record<string, unknown>;
  /** an io_uring fact (ring creation, an opcode, or an io_uring_* syscall) */
  ioUring: boolean;
  /** an inbound endpoint: the image serves network clients */
  inbound: boolean;
  /** files: the sensitive path class */
  pathClass: string;
}

export type DetectionInput = ExecInput | FactInput;

const MAX_ARGS = 16;
const MAX_ARG_CHARS = 256;

/** O_* flag names (x86_64 values) in the order Kubescape lists them. */
const OPEN_FLAGS: ReadonlyArray<[number, string]> = [
  [0o100, 'O_CREAT'],
  [0o200, 'O_EXCL'],
  [0o400, 'O_NOCTTY'],
  [0o1000, 'O_TRUNC'],
  [0o2000, 'O_APPEND'],
  [0o4000, 'O_NONBLOCK'],
  [0o10000, 'O_DSYNC'],
  [0o200000, 'O_DIRECTORY'],
  [0o400000, 'O_NOFOLLOW'],
  [0o1000000, 'O_NOATIME'],
  [0o2000000, 'O_CLOEXEC'],
  [0o10000000, 'O_PATH'],
];

/** open(2) flags as names: the access mode first ("O_RDONLY"), then the others set. */
export function openFlagNames(flags: number): string[] {
  const mode = ['O_RDONLY', 'O_WRONLY', 'O_RDWR', 'O_ACCMODE'][flags & 3]!;
  return [mode, ...OPEN_FLAGS.filter(([bit]) => (flags & bit) !== 0).map(([, name]) => name)];
}

export function workloadInfo(w: Workload | undefined): WorkloadInfo | null {
  if (!w || !w.key) return null;
  return { key: w.key, kind: w.kind, namespace: w.namespace, name: w.name, container: w.container };
}

type FactEntry = Pick<FactInput, 'kind' | 'value' | 'ioUring' | 'inbound' | 'pathClass'>;

/**
 * The profile entry a fact is about: (kind, value) and what the rules need. On every fact the
 * collector stores: plain object literals only (an object spread costs ~60x more here), and
 * nothing else built (the detail waits until an entry or indicator is made of it).
 */
export function factEntry(fact: Fact): FactEntry | null {
  switch (fact.kind) {
    case FactKind.FACT_KIND_SYSCALL:
      return { kind: 'syscall', value: fact.abi === 'i386' ? `${fact.name} (i386)` : fact.name, ioUring: fact.name.startsWith('io_uring_'), inbound: false, pathClass: '' };
    case FactKind.FACT_KIND_IO_URING_SETUP:
      // A ring was created: the io_uring_setup syscall, whatever the syscall facts say.
      return { kind: 'syscall', value: 'io_uring_setup', ioUring: true, inbound: false, pathClass: '' };
    case FactKind.FACT_KIND_IO_URING_OP:
      return { kind: 'io_uring_op', value: fact.name, ioUring: true, inbound: false, pathClass: '' };
    case FactKind.FACT_KIND_ENDPOINT: {
      const inbound = fact.direction === Direction.DIRECTION_INBOUND;
      // Inbound: the service port (clients vary); outbound: the peer.
      return { kind: 'endpoint', value: inbound ? `:${fact.port}/${fact.protocol} inbound` : fact.name, ioUring: fact.via === FactVia.FACT_VIA_IO_URING, inbound, pathClass: '' };
    }
    case FactKind.FACT_KIND_FILE:
      return { kind: 'file', value: fact.path, ioUring: fact.via === FactVia.FACT_VIA_IO_URING, inbound: false, pathClass: fact.pathClass };
    default:
      return null;
  }
}

/** The kind-specific fields of a fact, kept with an entry or an indicator. */
export function factDetail(fact: Fact): Record<string, unknown> {
  const via = fact.via === FactVia.FACT_VIA_IO_URING ? 'io_uring' : 'syscall';
  switch (fact.kind) {
    case FactKind.FACT_KIND_SYSCALL:
      return { number: fact.number, abi: fact.abi };
    case FactKind.FACT_KIND_IO_URING_SETUP:
      return { ringFlags: fact.ringFlagNames, sqpoll: fact.sqpoll, sqEntries: fact.sqEntries, cqEntries: fact.cqEntries };
    case FactKind.FACT_KIND_IO_URING_OP:
      return { opcode: fact.number, ringFlags: fact.ringFlagNames, sqpoll: fact.sqpoll };
    case FactKind.FACT_KIND_ENDPOINT:
      return { address: fact.address, port: fact.port, protocol: fact.protocol, direction: fact.direction === Direction.DIRECTION_INBOUND ? 'inbound' : 'outbound', via };
    case FactKind.FACT_KIND_FILE:
      return { class: fact.pathClass, flags: openFlagNames(fact.openFlags), via };
    default:
      return {};
  }
}

/** An input's detail: a fact's fields, or an exec's arguments (bounded). */
export function detailOf(input: DetectionInput): Record<string, unknown> {
  if (input.type === 'exec') return { args: input.argv.slice(0, MAX_ARGS).map((a) => (a.length > MAX_ARG_CHARS ? a.slice(0, MAX_ARG_CHARS) : a)) };
  return input.detail ?? (input.fact ? factDetail(input.fact) : {});
}

/** What the detector keeps of one event (null for events it does not need). */
export function pickDetectionInput(event: Event): DetectionInput | null {
  const body = event.body;
  if (!body) return null;
  if (body.$case === 'exec') {
    const exec = body.value;
    return {
      type: 'exec',
      node: event.node,
      execId: event.execId,
      parentExecId: exec.parentExecId,
      tsNs: event.tsNs,
      binary: exec.binary,
      argv: exec.argv,
      seeded: exec.seeded,
      own: event.own === true,
      workload: workloadInfo(exec.workload),
    };
  }
  if (body.$case === 'fact') {
    const entry = factEntry(body.value);
    if (!entry) return null;
    return {
      type: 'fact',
      node: event.node,
      execId: event.execId,
      pid: event.pid,
      tsNs: event.tsNs,
      own: event.own === true,
      workload: body.value.workload,
      kind: entry.kind,
      value: entry.value,
      fact: body.value,
      ioUring: entry.ioUring,
      inbound: entry.inbound,
      pathClass: entry.pathClass,
    };
  }
  return null;
}
