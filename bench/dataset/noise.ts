import type { Db } from '../../db/client';

/**
 * The noise of the investigation benchmark's dataset, generated inside ClickHouse: every row is
 * an `INSERT … SELECT … FROM numbers(…)` whose columns are functions of the row number, so a
 * hundred million rows take minutes and nothing crosses into JavaScript.
 *
 * Shape (per `Shape`): `nodes` nodes, each with its own sensor; on each node processes start at an
 * even pace over `days` days, in families of ten (a shell, index ≡ 0 mod 10, starts the nine
 * after it); each process has an exec, a fork and an exit row and three facts (one process in a
 * thousand calls io_uring_setup). `investigations` noisy investigations (an indicator, an
 * investigation, an expired zoom of five minutes on one process each) carry the evidence rows:
 * io_uring requests, socket events, file accesses and code fingerprints, evenly shared. Sensor
 * gaps are sprinkled over the sensors.
 */

export interface Shape {
  /** total rows in the event tables (process_events, facts and the four evidence tables) */
  events: number;
  nodes: number;
  days: number;
  investigations: number;
  /** the dataset's end (ns): rows lie in [end - days, end] */
  endNs: bigint;
}

/** Shares of `events` per table (they add up to 1). */
export const SHARES = {
  process_events: 0.3,
  facts: 0.3,
  io_uring_ops: 0.1,
  socket_events: 0.15,
  file_accesses: 0.14,
  code_fingerprints: 0.01,
} as const;

export type NoiseTable = keyof typeof SHARES;

const NS_PER_DAY = 86_400_000_000_000n;
/** Rows per INSERT: bounded memory, few parts. */
const CHUNK = 10_000_000;
/** Evidence rows of one noisy zoom are this far apart. */
const EVIDENCE_STEP_NS = 60_000_000n;

export function rowsPerTable(shape: Shape): Record<NoiseTable, number> {
  const rows = Object.fromEntries(Object.entries(SHARES).map(([t, share]) => [t, Math.floor(shape.events * share)])) as Record<NoiseTable, number>;
  // Whole processes: three lifecycle rows and three facts each.
  rows.process_events -= rows.process_events % 3;
  rows.facts -= rows.facts % 3;
  return rows;
}

/** SQL of the process layout, for row expressions `ni` (node index) and `p` (process index on the node). */
export class Layout {
  readonly start: bigint;
  readonly processesPerNode: number;
  readonly stepNs: bigint;

  constructor(readonly shape: Shape) {
    this.start = shape.endNs - BigInt(shape.days) * NS_PER_DAY;
    this.processesPerNode = Math.max(10, Math.floor(rowsPerTable(shape).process_events / 3 / shape.nodes));
    this.stepNs = (BigInt(shape.days) * NS_PER_DAY) / BigInt(this.processesPerNode);
  }

  node(ni: string): string {
    return `concat('node-', leftPad(toString(${ni}), 3, '0'))`;
  }

  sensor(ni: string): string {
    return `concat('sensor-', ${this.node(ni)})`;
  }

  /** Wall-clock start (ns, Int64) of process p on node ni. */
  startNs(ni: string, p: string): string {
    return `(toInt64(${this.start}) + toInt64(${p}) * toInt64(${this.stepNs}) + toInt64(${ni}) * 7000000)`;
  }

  pid(p: string): string {
    return `toUInt32(1000 + ${p})`;
  }

  execId(ni: string, p: string): string {
    return `concat(${this.node(ni)}, ':0a1b2c3d:', toString(1000000000 + toUInt64(${p}) * 1000), ':', toString(${this.pid(p)}), ':1')`;
  }

  /** The family's shell starts the other nine; a shell's parent is unknown (started before the sensor). */
  parentExecId(ni: string, p: string): string {
    return `if(${p} % 10 = 0, '', ${this.execId(ni, `(${p} - ${p} % 10)`)})`;
  }

  workload(ni: string, p: string): string {
    return `concat('k8s/prod/deployment/app-', toString((intDiv(${p}, 100) + ${ni}) % 200))`;
  }
}

const BINARIES = `['/bin/sh', '/usr/bin/python3', '/usr/local/bin/app', '/usr/bin/curl', '/usr/bin/git', '/usr/bin/node', '/usr/bin/java', '/usr/sbin/nginx']`;
const SYSCALLS = `['openat', 'read', 'write', 'connect', 'sendto', 'recvfrom', 'mmap', 'futex', 'epoll_wait', 'clone3']`;
const OPCODES = `['READ', 'WRITE', 'SEND', 'RECV', 'OPENAT', 'CLOSE', 'CONNECT', 'POLL_ADD']`;

function chunks(total: number): Array<{ offset: number; count: number }> {
  const out: Array<{ offset: number; count: number }> = [];
  for (let offset = 0; offset < total; offset += CHUNK) out.push({ offset, count: Math.min(CHUNK, total - offset) });
  return out;
}

/** The INSERT statements of the noise, in order, with the rows each writes. */
export function noiseStatements(shape: Shape): Array<{ table: string; rows: number; sql: string }> {
  const L = new Layout(shape);
  const rows = rowsPerTable(shape);
  const N = shape.nodes;
  const INV = shape.investigations;
  const out: Array<{ table: string; rows: number; sql: string }> = [];
  const add = (table: string, total: number, body: (from: string) => string) => {
    for (const c of chunks(total)) out.push({ table, rows: c.count, sql: body(`numbers(${c.offset}, ${c.count})`) });
  };

  // Processes: row n → process q = n / 3 (node q % N, index q / N), kind n % 3.
  const q = 'intDiv(number, 3)';
  const ni = `(${q} % ${N})`;
  const p = `intDiv(${q}, ${N})`;
  add('process_events', rows.process_events, (from) => `
    INSERT INTO process_events (node, sensor, epoch, seq, ts, kind, exec_id, parent_exec_id, pid, tid, ppid, uid, gid, auid, binary, argv,
      cwd, comm, cgroup_id, cgroup_path, container_runtime, container_id, pod_uid, pod_name, pod_namespace, seeded, start_ts, child_pid,
      exit_code, exit_signal, workload, workload_kind, workload_namespace, workload_name, workload_container, workload_name_source)
    SELECT ${L.node(ni)}, ${L.sensor(ni)}, 'bench', number, fromUnixTimestamp64Nano(${L.startNs(ni, p)} + toInt64(number % 3) * (1000 + (${p} % 7) * 400000000)),
      ['exec', 'fork', 'exit'][number % 3 + 1], ${L.execId(ni, p)}, ${L.parentExecId(ni, p)}, ${L.pid(p)}, ${L.pid(p)},
      if(${p} % 10 = 0, 1, toUInt32(1000 + ${p} - ${p} % 10)), if(${p} % 10 = 0, 0, 1000 + ${p} % 5), 1000, 1000,
      ${BINARIES}[${p} % 8 + 1], [${BINARIES}[${p} % 8 + 1], '--job', toString(${p})], '/srv/app', splitByChar('/', ${BINARIES}[${p} % 8 + 1])[-1],
      4242 + intDiv(${p}, 100), concat('/kubepods/pod', toString(intDiv(${p}, 100))), 'containerd', lower(hex(cityHash64(${ni}, intDiv(${p}, 100)))),
      '', concat('app-', toString(intDiv(${p}, 100) % 200), '-7d9f'), 'prod', false, fromUnixTimestamp64Nano(${L.startNs(ni, p)}),
      if(number % 3 = 1, toUInt32(2000000 + ${p}), 0), if(number % 3 = 2, toInt32(${p} % 13 = 0), 0), 0,
      if(number % 3 = 0, ${L.workload(ni, p)}, ''), if(number % 3 = 0, 'deployment', ''), if(number % 3 = 0, 'prod', ''),
      if(number % 3 = 0, concat('app-', toString((intDiv(${p}, 100) + ${ni}) % 200)), ''), '', ''
    FROM ${from}`);

  // Facts: three per process, a millisecond apart; one process in a thousand sets up io_uring.
  add('facts', rows.facts, (from) => `
    INSERT INTO facts (node, sensor, epoch, seq, ts, exec_id, pid, tid, own, workload, kind, name, number, via, abi)
    SELECT ${L.node(ni)}, ${L.sensor(ni)}, 'bench', 1000000000000 + number, fromUnixTimestamp64Nano(${L.startNs(ni, p)} + toInt64(number % 3 + 1) * 1000000),
      ${L.execId(ni, p)}, ${L.pid(p)}, ${L.pid(p)}, false, ${L.workload(ni, p)},
      if(${p} % 1000 = 7 AND number % 3 = 0, 'io_uring_setup', 'syscall'),
      if(${p} % 1000 = 7 AND number % 3 = 0, 'io_uring_setup', ${SYSCALLS}[(${p} + number) % 10 + 1]), 0, 'syscall', 'x86_64'
    FROM ${from}`);

  // Noisy investigations: investigation i zooms on process (i * 997) mod P of node i mod N, five
  // minutes from a second after that process started; evidence row n belongs to i = n mod INV.
  const inv = (x: string) => `(${x} % ${INV})`;
  const invNode = (i: string) => `(${i} % ${N})`;
  const invProc = (i: string) => `((${i} * 997) % ${L.processesPerNode})`;
  const invId = (i: string) => `lower(hex(substring(SHA256(concat('bench-investigation-', toString(${i}))), 1, 12)))`;
  const indicatorId = (i: string) => `lower(hex(substring(SHA256(concat('bench-indicator-', toString(${i}))), 1, 12)))`;
  const zoomId = (i: string) => `concat('z-bench-', toString(${i}))`;
  const windowStart = (i: string) => `(${L.startNs(invNode(i), invProc(i))} + 1000000000)`;
  const evTs = `fromUnixTimestamp64Nano(${windowStart(inv('number'))} + toInt64(intDiv(number, ${INV})) * ${EVIDENCE_STEP_NS})`;
  const evCommon = (i: string) =>
    `${invId(i)}, ${zoomId(i)}, ${evTs}, ${L.node(invNode(i))}, ${L.sensor(invNode(i))}, 'bench', 2000000000000 + number, ${L.execId(invNode(i), invProc(i))}, ${L.pid(invProc(i))}, ${L.pid(invProc(i))}, false`;
  const EV = 'investigation_id, zoom_id, ts, node, sensor, epoch, seq, exec_id, pid, tid, own';
  const i = inv('number');

  add('io_uring_ops', rows.io_uring_ops, (from) => `
    INSERT INTO io_uring_ops (${EV}, opcode, opcode_number, fd, path, address, port, result, length, bytes, payload_prefix, submit_ts, complete_ts, completed)
    SELECT ${evCommon(i)}, ${OPCODES}[number % 8 + 1], [22, 23, 26, 27, 18, 19, 16, 6][number % 8 + 1], toInt32(5 + number % 20),
      if(number % 8 IN (0, 1, 4, 5), concat('/var/lib/app/data-', toString(number % 50), '.db'), ''),
      if(number % 8 IN (2, 3, 6), concat('10.1.', toString(${i} % 250), '.', toString(number % 7 + 1)), ''), if(number % 8 IN (2, 3, 6), 5432, 0),
      toInt64(512), 4096, if(number % 8 IN (0, 1, 2, 3), 512, 0), if(number % 8 = 2, [0x50, 0x00, 0x00, 0x00, 0x08, 0x04, 0xd2, 0x16], []),
      ${evTs}, ${evTs}, true
    FROM ${from}`);

  add('socket_events', rows.socket_events, (from) => `
    INSERT INTO socket_events (${EV}, op, socket_cookie, address, port, local_address, local_port, protocol, bytes, payload_prefix, via)
    SELECT ${evCommon(i)}, ['connect', 'send', 'recv', 'send', 'recv'][number % 5 + 1], 4096 + ${i},
      concat('10.1.', toString(${i} % 250), '.', toString(number % 7 + 1)), [5432, 443, 6379][number % 3 + 1], '10.0.0.5', 40000 + number % 20000, 'tcp',
      if(number % 5 = 0, 0, 200 + number % 1300), if(number % 5 IN (1, 3), [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01], []), 'syscall'
    FROM ${from}`);

  add('file_accesses', rows.file_accesses, (from) => `
    INSERT INTO file_accesses (${EV}, op, path, flags, bytes, via, fd, result)
    SELECT ${evCommon(i)}, ['open', 'read', 'read', 'write', 'close'][number % 5 + 1],
      concat('/var/lib/app/', ['data', 'cache', 'log', 'tmp'][number % 4 + 1], '-', toString(number % 50)), 0,
      if(number % 5 IN (1, 2, 3), 4096, 0), 'syscall', toInt32(5 + number % 20), 0
    FROM ${from}`);

  add('code_fingerprints', rows.code_fingerprints, (from) => `
    INSERT INTO code_fingerprints (${EV}, path, kind, language, runtime, evidence, build_id, sha256, size, mapped_at)
    SELECT ${evCommon(i)}, if(intDiv(number, ${INV}) = 0, ${BINARIES}[${invProc(i)} % 8 + 1], concat('/usr/lib/x86_64-linux-gnu/lib', toString(number % 40), '.so')),
      if(intDiv(number, ${INV}) = 0, 'executable', 'shared_object'), 'C', '', ['no C++ runtime, no Rust or Go markers: C'],
      lower(hex(substring(SHA256(toString(number % 40)), 1, 20))), lower(hex(SHA256(toString(number % 40)))), 100000, ${evTs}
    FROM ${from}`);

  const noisy = (table: string, body: string) => out.push({ table, rows: INV, sql: body.replaceAll('{i}', 'number') });
  const zoomEnd = `(${windowStart('{i}')} + 300000000000)`;
  noisy('indicators', `
    INSERT INTO indicators (id, ts, last_seen, count, node, exec_id, last_exec_id, exec_ids, workload, workload_kind, executable, kind, value,
      severity, deviation, rules, profile_version, profile_status, sentence, explanation, state, updated_at, row_version)
    SELECT ${indicatorId('{i}')}, fromUnixTimestamp64Nano(${windowStart('{i}')} - 5000000), fromUnixTimestamp64Nano(${windowStart('{i}')} - 5000000), 1,
      ${L.node(invNode('{i}'))}, ${L.execId(invNode('{i}'), invProc('{i}'))}, ${L.execId(invNode('{i}'), invProc('{i}'))}, [${L.execId(invNode('{i}'), invProc('{i}'))}],
      ${L.workload(invNode('{i}'), invProc('{i}'))}, 'deployment', ${BINARIES}[${invProc('{i}')} % 8 + 1], 'syscall', 'io_uring_setup', 'high', true,
      ['io_uring-first-use'], 1, 'completed', 'First syscall io_uring_setup in this workload.', '{}', 'open',
      fromUnixTimestamp64Nano(${windowStart('{i}')} - 5000000), 1
    FROM numbers(${INV})`);
  noisy('investigations', `
    INSERT INTO investigations (id, title, status, trigger, created_at, updated_at, created_by, indicator_ids, node, workload, exec_id, verdict, row_version)
    SELECT ${invId('{i}')}, concat('io_uring_setup in app-', toString({i})), 'open', 'auto', fromUnixTimestamp64Nano(${windowStart('{i}')} - 3000000),
      fromUnixTimestamp64Nano(${windowStart('{i}')} - 3000000), 'zoom policy', [${indicatorId('{i}')}], ${L.node(invNode('{i}'))},
      ${L.workload(invNode('{i}'), invProc('{i}'))}, ${L.execId(invNode('{i}'), invProc('{i}'))}, 'none', 1
    FROM numbers(${INV})`);
  noisy('zooms', `
    INSERT INTO zooms (zoom_id, sensor, node, investigation_id, status, reason, target_kind, target, target_tgids, probes, ttl_s, max_events,
      ordered_at, started_at, expires_at, ended_at, events_emitted, requested_by, order_reason, source, observed_at, row_version)
    SELECT ${zoomId('{i}')}, ${L.sensor(invNode('{i}'))}, ${L.node(invNode('{i}'))}, ${invId('{i}')}, 'expired', 'TTL of 300 s ran out', 'exec_id',
      ${L.execId(invNode('{i}'), invProc('{i}'))}, [${L.pid(invProc('{i}'))}], ['IO_URING', 'NETWORK', 'FILES', 'CODE'], 300, 50000,
      fromUnixTimestamp64Nano(${windowStart('{i}')} - 2000000), fromUnixTimestamp64Nano(${windowStart('{i}')} - 1000000),
      fromUnixTimestamp64Nano(${zoomEnd}), fromUnixTimestamp64Nano(${zoomEnd}), 5000, 'zoom policy', 'io_uring_setup first seen', 'stream',
      fromUnixTimestamp64Nano(${zoomEnd}), toUInt64(4611686018427387904 * 2 + ${zoomEnd} % 4611686018427387904)
    FROM numbers(${INV})`);

  // Sensors: one per node, with its status (the timeline finds a node's sensors there), and gaps.
  out.push({
    table: 'sensor_status',
    rows: N,
    sql: `INSERT INTO sensor_status (sensor, observed_at, epoch, node, mode, kernel_release, btf_available, version, started_at, status_json)
          SELECT ${L.sensor('number')}, fromUnixTimestamp64Nano(toInt64(${shape.endNs})), 'bench', ${L.node('number')}, 'live', '6.18.0', true, 'bench',
                 fromUnixTimestamp64Nano(toInt64(${L.start})), '{}'
          FROM numbers(${N})`,
  });
  const gaps = Math.max(N, Math.floor(shape.events / 5000));
  out.push({
    table: 'sensor_gaps',
    rows: gaps,
    sql: `INSERT INTO sensor_gaps (sensor, epoch, ts, kind, from_seq, to_seq, count, detail)
          SELECT ${L.sensor('number % ' + N)}, 'bench', fromUnixTimestamp64Nano(toInt64(${L.start}) + toInt64(intDiv(number, ${N})) * ${(BigInt(shape.days) * NS_PER_DAY) / BigInt(Math.ceil(gaps / N))}),
                 ['kernel_drop', 'user_drop', 'seq_gap'][number % 3 + 1], number * 100, number * 100 + 9, 1 + number % 50, 'bench gap'
          FROM numbers(${gaps})`,
  });
  return out;
}

/** Runs the noise statements, reporting each. */
export async function generateNoise(db: Db, shape: Shape, log: (line: string) => void): Promise<void> {
  for (const s of noiseStatements(shape)) {
    const started = Date.now();
    await db.client.command({ query: s.sql, clickhouse_settings: { log_comment: `bench.dataset.${s.table}`, max_insert_threads: '2' } });
    log(`${s.table}: ${s.rows.toLocaleString('en')} rows in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}
