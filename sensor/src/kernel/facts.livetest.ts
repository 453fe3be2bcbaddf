/**
 * First-seen facts against the real kernel: syscalls per image (and their reset at exec, and
 * the run-time switch), io_uring (plain, SQPOLL, io-wq workers) against plain syscalls, files of
 * a sensitive class, endpoints, activity counters, and own marking.
 *
 * Workloads are the C test programs (sensor/build/uring_probe, syscall_loop; `make -C sensor
 * test-programs`) started through a Launcher: a shell that predates the sensor, so they are not
 * the sensor's own descendants (those are marked own).
 */
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import dgram from 'node:dgram';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Direction, FactKind, FactVia, type Event, type Fact } from '../../gen/soc/sensor/v1/sensor';
import { Launcher } from '../testing/launcher';
import { KernelEventSource, probeKernel } from './source';
import { syscallNumber } from './syscalls';

const probe = probeKernel();
const BUILD = path.resolve(import.meta.dirname, '../../build');
const URING_PROBE = path.join(BUILD, 'uring_probe');
const SYSCALL_LOOP = path.join(BUILD, 'syscall_loop');
const programsMissing = [URING_PROBE, SYSCALL_LOOP].find((p) => !existsSync(p));
const skipReason = !probe.ok ? probe.reason : programsMissing ? `test program missing: ${programsMissing} (run make -C sensor test-programs)` : '';
if (skipReason) console.warn(`facts live tests skipped: ${skipReason}`);

describe.skipIf(skipReason !== '')(`first-seen facts (${skipReason || 'live'})`, () => {
  const events: Event[] = [];
  let source: KernelEventSource;
  let launcher: Launcher;
  let tmp: string;
  let tokenPath: string;
  let tcp: net.Server;
  let tcpPort: number;
  let udp: dgram.Socket;
  let udpPort: number;
  const received: Buffer[] = [];

  const factsOf = (pid: number, kind?: FactKind): Array<Event & { fact: Fact }> =>
    events
      .filter((e) => e.pid === pid && e.body?.$case === 'fact' && (kind === undefined || e.body.value.kind === kind))
      .map((e) => ({ ...e, fact: (e.body as { value: Fact }).value }));
  const execsOf = (pid: number) => events.filter((e) => e.pid === pid && e.body?.$case === 'exec');

  async function waitFor<T>(what: string, f: () => T | undefined | false, ms = 5000): Promise<T> {
    const until = Date.now() + ms;
    for (;;) {
      const v = f();
      if (v !== undefined && v !== false) return v;
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Runs a program through the launcher; resolves with its pid once its exit event is in. */
  async function run(argv: string[]): Promise<{ pid: number; stdout: string }> {
    const l = launcher.run(argv);
    const pid = await l.pid;
    const done = await l.done;
    expect(done.code, `${argv.join(' ')}: ${done.stdout}${done.stderr}`).toBe(0);
    await waitFor(`exit event of ${pid}`, () => events.some((e) => e.pid === pid && e.body?.$case === 'exit'));
    return { pid, stdout: done.stdout };
  }

  /** Accepted connections of an image that ended, from its counter reports. */
  async function acceptsOf(image: string): Promise<bigint> {
    const reports = await waitFor(`final counters of ${image}`, () => {
      const r = events.filter((e) => e.execId === image && e.body?.$case === 'counters');
      return r.some((e) => e.body?.$case === 'counters' && e.body.value.final) ? r : undefined;
    });
    return reports.reduce((n, e) => n + (e.body?.$case === 'counters' ? BigInt(e.body.value.accepts) : 0n), 0n);
  }

  /** The exec id of the last image of pid whose binary is `binary`. */
  function imageOf(pid: number, binary: string): string {
    const ex = execsOf(pid).filter((e) => e.body?.$case === 'exec' && e.body.value.binary === binary);
    expect(ex.length, `exec of ${binary} in ${pid}`).toBeGreaterThan(0);
    return ex.at(-1)!.execId;
  }

  beforeAll(async () => {
    launcher = new Launcher(); // before the source: its children are not the sensor's
    tmp = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'soc-facts-')));
    tokenPath = path.join(tmp, 'pod', 'serviceaccount', 'token');
    mkdirSync(path.dirname(tokenPath), { recursive: true });
    writeFileSync(tokenPath, 'not-a-real-token\n');
    tcp = net.createServer((c) => c.on('data', (d) => received.push(d)).on('error', () => undefined));
    await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', () => r()));
    tcpPort = (tcp.address() as net.AddressInfo).port;
    udp = dgram.createSocket('udp4');
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
    udpPort = udp.address().port;
    source = new KernelEventSource({
      node: 'facts-livetest',
      ringBufferBytes: 1 << 24,
      onEvents: (evs) => events.push(...evs),
      // The default classes include '*/serviceaccount/token' (service_account_token).
      facts: { countersIntervalMs: 300 },
    });
    await source.start();
  });

  afterAll(async () => {
    await source?.stop();
    launcher?.close();
    tcp?.close();
    udp?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('attaches every facts program', () => {
    const programs = source.status().programs.filter((p) => p.name.startsWith('facts_'));
    expect(programs.map((p) => [p.name, p.attached, p.error])).toEqual(
      [
        'facts_sys_enter',
        'facts_iouring_submit',
        'facts_iouring_create',
        'facts_connect4',
        'facts_connect6',
        'facts_sendmsg4',
        'facts_sendmsg6',
        'facts_sockops',
      ].map((n) => [n, true, '']),
    );
  });

  it('reports a syscall once per image, again after exec', async () => {
    const nr = syscallNumber('getpriority')!;
    expect(nr).toBe(140);
    const { pid } = await run([SYSCALL_LOOP, '--syscall', 'getpriority', '--iterations', '3', '--then-exec', SYSCALL_LOOP, '--syscall', 'getpriority', '--iterations', '2']);
    const images = execsOf(pid).filter((e) => e.body?.$case === 'exec' && e.body.value.binary === SYSCALL_LOOP);
    expect(images).toHaveLength(2);
    const facts = factsOf(pid, FactKind.FACT_KIND_SYSCALL).filter((f) => f.fact.number === nr);
    // Exactly one per image, whatever the number of calls; none before (the launching sh).
    expect(facts.map((f) => f.execId)).toEqual(images.map((e) => e.execId));
    for (const f of facts) {
      expect(f.fact).toMatchObject({ name: 'getpriority', number: 140, abi: 'x86_64', via: FactVia.FACT_VIA_SYSCALL });
      expect(f.own).toBeUndefined();
      expect(f.tid).toBe(pid);
    }
    // No fact is ever repeated within an image.
    const keys = factsOf(pid).map((f) => `${f.execId}|${f.fact.kind}|${f.fact.name}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('switches the bitmap off and on at run time; other facts keep flowing', async () => {
    source.setSyscallBitmap(false);
    try {
      expect(source.factsStats().syscallBitmap).toBe(false);
      const { pid } = await run([URING_PROBE, '--syscalls', '--open', tokenPath]);
      expect(factsOf(pid, FactKind.FACT_KIND_SYSCALL)).toEqual([]);
      const files = factsOf(pid, FactKind.FACT_KIND_FILE);
      expect(files.map((f) => [f.fact.path, f.fact.via])).toEqual([[tokenPath, FactVia.FACT_VIA_SYSCALL]]);
    } finally {
      source.setSyscallBitmap(true);
    }
    const { pid } = await run([SYSCALL_LOOP, '--syscall', 'getpriority', '--iterations', '1']);
    expect(factsOf(pid, FactKind.FACT_KIND_SYSCALL).some((f) => f.fact.name === 'getpriority')).toBe(true);
  });

  for (const mode of ['plain', 'sqpoll', 'async'] as const) {
    it(`io_uring (${mode}): setup, opcodes, the token file and the endpoint, all of the program's image`, async () => {
      const flags = mode === 'sqpoll' ? ['--sqpoll'] : mode === 'async' ? ['--async'] : [];
      const before = received.length;
      const { pid, stdout } = await run([URING_PROBE, ...flags, '--open', tokenPath, '--connect', `127.0.0.1:${tcpPort}`, '--send', `beacon-${mode}`]);
      expect(JSON.parse(stdout)).toMatchObject({ pid, connect: 1, errors: [] });
      await waitFor('the frame at the listener', () => received.length > before);
      const image = imageOf(pid, URING_PROBE);
      const all = factsOf(pid).filter((f) => f.execId === image);
      // Everything — including what io_uring's own threads (iou-sqp-*, iou-wrk-*) did — is
      // attributed to the program's image, never to a kernel thread.
      expect(factsOf(pid).filter((f) => f.execId !== image && f.fact.kind !== FactKind.FACT_KIND_SYSCALL)).toEqual([]);

      const syscalls = all.filter((f) => f.fact.kind === FactKind.FACT_KIND_SYSCALL).map((f) => f.fact.name);
      expect(syscalls).toContain('io_uring_setup');
      if (mode !== 'sqpoll') expect(syscalls).toContain('io_uring_enter');
      // The work went through the ring: no open/connect/send syscall for it.
      expect(syscalls).not.toContain('connect');
      expect(syscalls).not.toContain('sendto');

      const setup = all.filter((f) => f.fact.kind === FactKind.FACT_KIND_IO_URING_SETUP);
      expect(setup).toHaveLength(1);
      expect(setup[0]!.fact).toMatchObject({ name: 'io_uring_setup', sqpoll: mode === 'sqpoll' });
      if (mode === 'sqpoll') expect(setup[0]!.fact.ringFlagNames).toContain('SQPOLL');

      const ops = all.filter((f) => f.fact.kind === FactKind.FACT_KIND_IO_URING_OP);
      expect(ops.map((f) => f.fact.name).sort()).toEqual(['CLOSE', 'CONNECT', 'OPENAT', 'READ', 'SEND']);
      for (const f of ops) {
        expect(f.fact.via).toBe(FactVia.FACT_VIA_IO_URING);
        expect(f.fact.sqpoll).toBe(mode === 'sqpoll');
      }
      expect(ops.find((f) => f.fact.name === 'OPENAT')!.fact.number).toBe(18);
      if (mode === 'sqpoll') expect(ops.every((f) => f.tid !== pid)).toBe(true); // the iou-sqp thread

      const files = all.filter((f) => f.fact.kind === FactKind.FACT_KIND_FILE);
      expect(files.map((f) => f.fact)).toEqual([
        expect.objectContaining({ path: tokenPath, pathClass: 'service_account_token', name: 'service_account_token', via: FactVia.FACT_VIA_IO_URING, openFlags: 0 }),
      ]);
      const endpoints = all.filter((f) => f.fact.kind === FactKind.FACT_KIND_ENDPOINT);
      expect(endpoints.map((f) => f.fact)).toEqual([
        expect.objectContaining({
          name: `127.0.0.1:${tcpPort}/tcp`,
          address: '127.0.0.1',
          port: tcpPort,
          protocol: 'tcp',
          direction: Direction.DIRECTION_OUTBOUND,
          via: FactVia.FACT_VIA_IO_URING,
        }),
      ]);
      for (const f of all) expect(f.own).toBeUndefined();

      // Counters: the image's final report includes the ring's work.
      const counters = await waitFor('final counters', () =>
        events.find((e) => e.execId === image && e.body?.$case === 'counters' && e.body.value.final),
      );
      if (counters.body?.$case !== 'counters') throw new Error('counters expected');
      const c = counters.body.value;
      const reported = events
        .filter((e) => e.execId === image && e.body?.$case === 'counters')
        .map((e) => (e.body as { value: typeof c }).value);
      const total = (k: keyof typeof c) => reported.reduce((a, v) => a + BigInt(v[k] as string), 0n);
      expect(total('ioUringSubmissions')).toBe(5n);
      expect(total('ioUringSetups')).toBe(1n);
      expect(total('connects')).toBe(1n);
      expect(total('sensitiveOpens')).toBe(1n);
      expect(total('syscalls')).toBeGreaterThan(20n);
    });
  }

  it('the same work through plain syscalls is reported via "syscall"', async () => {
    const { pid } = await run([URING_PROBE, '--syscalls', '--open', tokenPath, '--connect', `127.0.0.1:${tcpPort}`, '--send', 'plain']);
    const image = imageOf(pid, URING_PROBE);
    const all = factsOf(pid).filter((f) => f.execId === image);
    expect(all.filter((f) => f.fact.kind === FactKind.FACT_KIND_IO_URING_OP || f.fact.kind === FactKind.FACT_KIND_IO_URING_SETUP)).toEqual([]);
    const syscalls = all.filter((f) => f.fact.kind === FactKind.FACT_KIND_SYSCALL).map((f) => f.fact.name);
    expect(syscalls).toEqual(expect.arrayContaining(['openat', 'read', 'connect', 'sendto', 'socket']));
    expect(all.filter((f) => f.fact.kind === FactKind.FACT_KIND_FILE).map((f) => [f.fact.path, f.fact.via])).toEqual([[tokenPath, FactVia.FACT_VIA_SYSCALL]]);
    expect(all.filter((f) => f.fact.kind === FactKind.FACT_KIND_ENDPOINT).map((f) => [f.fact.name, f.fact.via])).toEqual([
      [`127.0.0.1:${tcpPort}/tcp`, FactVia.FACT_VIA_SYSCALL],
    ]);
  });

  it('a UDP datagram sent with an address through io_uring SENDMSG is an io_uring endpoint', async () => {
    const { pid } = await run([URING_PROBE, '--connect', `127.0.0.1:${udpPort}`, '--udp', '--sendto', '--send', 'dgram']);
    const image = imageOf(pid, URING_PROBE);
    const endpoints = factsOf(pid, FactKind.FACT_KIND_ENDPOINT).filter((f) => f.execId === image);
    expect(endpoints.map((f) => [f.fact.name, f.fact.via, f.fact.direction])).toEqual([
      [`127.0.0.1:${udpPort}/udp`, FactVia.FACT_VIA_IO_URING, Direction.DIRECTION_OUTBOUND],
    ]);
    expect(factsOf(pid, FactKind.FACT_KIND_IO_URING_OP).map((f) => f.fact.name)).toContain('SENDMSG');
  });

  it('a relative open is resolved against the cwd before matching', async () => {
    const { pid } = await run(['sh', '-c', `cd ${path.dirname(tokenPath)} && exec ${URING_PROBE} --syscalls --open ./token`]);
    const files = factsOf(pid, FactKind.FACT_KIND_FILE);
    expect(files.map((f) => [f.fact.path, f.fact.pathRelative, f.fact.pathClass])).toEqual([[tokenPath, true, 'service_account_token']]);
  });

  it('finds segment classes anywhere in a path, beyond the first 256 bytes too', async () => {
    const deep = path.join(tmp, 'a'.repeat(200), 'b'.repeat(200), '.ssh', 'id_test');
    const gcloud = path.join(tmp, 'home', '.config', 'gcloud', 'credentials.db');
    const ordinary = path.join(tmp, 'home', '.cache', 'id_test');
    for (const f of [deep, gcloud, ordinary]) {
      mkdirSync(path.dirname(f), { recursive: true });
      writeFileSync(f, 'x');
    }
    const files = [];
    for (const f of [deep, gcloud, ordinary]) {
      const { pid } = await run([URING_PROBE, '--syscalls', '--open', f]);
      files.push(...factsOf(pid, FactKind.FACT_KIND_FILE).map((e) => [e.fact.path, e.fact.pathClass]));
    }
    expect(files).toEqual([
      [deep, 'key_material'],
      [gcloud, 'cloud_credentials'],
    ]);
  });

  it('configured classes: anchored, exact, suffix and segment probes (one not starting at a "/")', async () => {
    const mine: Event[] = [];
    const custom = new KernelEventSource({
      node: 'facts-livetest-classes',
      onEvents: (evs) => mine.push(...evs),
      facts: {
        countersIntervalMs: 0,
        pathClasses: [
          { name: 'vault_dir', patterns: [`${tmp}/vault/`] },
          { name: 'exact_file', patterns: [`${tmp}/exact.conf`] },
          { name: 'secret_key', patterns: ['*.secretkey'] },
          { name: 'vault_token', patterns: ['*vault-token*'] },
        ],
      },
    });
    await custom.start();
    try {
      const cases: Array<[string, string | undefined]> = [
        [path.join(tmp, 'vault', 'a'), 'vault_dir'],
        [path.join(tmp, 'exact.conf'), 'exact_file'],
        [path.join(tmp, 'exact.conf.bak'), undefined], // an exact prefix does not match longer paths
        [path.join(tmp, 'x', 'y.secretkey'), 'secret_key'],
        [path.join(tmp, 'deep', 'my-vault-token-file'), 'vault_token'],
        [path.join(tmp, 'deep', 'vault', 'ordinary'), undefined],
      ];
      const seen: Array<[string, string | undefined]> = [];
      for (const [file] of cases) {
        mkdirSync(path.dirname(file), { recursive: true });
        writeFileSync(file, 'x');
        const { pid } = await run([SYSCALL_LOOP, '--open', file, '--iterations', '1']);
        await custom.flush();
        const f = mine.find((e) => e.pid === pid && e.body?.$case === 'fact' && e.body.value.kind === FactKind.FACT_KIND_FILE);
        seen.push([file, f?.body?.$case === 'fact' ? f.body.value.pathClass : undefined]);
      }
      expect(seen).toEqual(cases);
    } finally {
      await custom.stop();
    }
  });

  it('inbound connections are endpoints of the image that accepts them', async () => {
    // The listener is this (own) process: its image reports 127.0.0.1 -> its port once.
    const self = factsOf(process.pid, FactKind.FACT_KIND_ENDPOINT).filter((f) => f.fact.direction === Direction.DIRECTION_INBOUND);
    expect(self.map((f) => [f.fact.address, f.fact.port, f.fact.protocol, f.own])).toEqual([['127.0.0.1', tcpPort, 'tcp', true]]);
  });

  it.each([
    ['accept4(2)', ['--syscalls'], FactVia.FACT_VIA_SYSCALL],
    ['io_uring ACCEPT, waiting for the connection', [], FactVia.FACT_VIA_IO_URING],
    ['io_uring ACCEPT into the ring file table', ['--direct'], FactVia.FACT_VIA_IO_URING],
    ['io_uring ACCEPT through an SQPOLL ring', ['--sqpoll'], FactVia.FACT_VIA_IO_URING],
    ['io_uring ACCEPT in an io-wq worker', ['--async'], FactVia.FACT_VIA_IO_URING],
    ['accept4(2) over IPv6', ['--syscalls', '--ipv6'], FactVia.FACT_VIA_SYSCALL],
    ['io_uring ACCEPT over IPv6', ['--ipv6'], FactVia.FACT_VIA_IO_URING],
  ])('an inbound connection accepted by %s is an endpoint of the accepting image', async (_how, args, via) => {
    const { pid, stdout } = await run([URING_PROBE, '--accept', ...args]);
    const out = JSON.parse(stdout) as { accept_port: number; accepted: number };
    expect(out.accepted).toBe(1);
    const image = imageOf(pid, URING_PROBE);
    const peer = args.includes('--ipv6') ? '::1' : '127.0.0.1';
    const inbound = factsOf(pid, FactKind.FACT_KIND_ENDPOINT).filter((f) => f.fact.direction === Direction.DIRECTION_INBOUND);
    expect(inbound.map((f) => [f.execId, f.fact.address, f.fact.port, f.fact.protocol, f.fact.via])).toEqual([[image, peer, out.accept_port, 'tcp', via]]);
    expect(await acceptsOf(image)).toBe(1n);
  });

  it('credits a connection to a reused port to its new listener, not to the one that left', async () => {
    const first = await run([URING_PROBE, '--accept', '--syscalls']);
    const port = (JSON.parse(first.stdout) as { accept_port: number }).accept_port;
    // The second listener's client connects before it accepts: sockops reports the connection
    // for the port's acceptor, which its listen(2) made it.
    const second = await run([URING_PROBE, '--accept', '--syscalls', '--port', String(port)]);
    expect((JSON.parse(second.stdout) as { accept_port: number }).accept_port).toBe(port);
    for (const { pid } of [first, second]) {
      const image = imageOf(pid, URING_PROBE);
      const inbound = factsOf(pid, FactKind.FACT_KIND_ENDPOINT).filter((f) => f.fact.direction === Direction.DIRECTION_INBOUND);
      expect(inbound.map((f) => [f.execId, f.fact.port])).toEqual([[image, port]]);
      expect(await acceptsOf(image)).toBe(1n);
    }
  });

  it('marks a process and what it spawns as own', async () => {
    const held = launcher.run(['sh', '-c', `read line; ${SYSCALL_LOOP} --syscall getpriority --iterations 1; exec ${SYSCALL_LOOP} --syscall getpriority --iterations 1`], {
      hold: true,
    });
    const control = launcher.run([SYSCALL_LOOP, '--syscall', 'getpriority', '--iterations', '1']);
    const pid = await held.pid;
    source.markOwn([pid]);
    const markedNs = BigInt(Date.now()) * 1_000_000n;
    await held.release();
    expect((await held.done).code).toBe(0);
    const controlPid = await control.pid;
    await control.done;
    await waitFor('exit of the marked process', () => events.some((e) => e.pid === pid && e.body?.$case === 'exit'));
    const after = (e: Event) => BigInt(e.tsNs) > markedNs;
    const fork = events.find((e) => e.pid === pid && e.body?.$case === 'fork' && after(e));
    expect(fork?.own).toBe(true);
    if (fork?.body?.$case !== 'fork') throw new Error('fork expected');
    const child = fork.body.value.childPid;
    await waitFor('exit of the child', () => events.some((e) => e.pid === child && e.body?.$case === 'exit'));
    // The marked process (through its exec) and its child: every event own.
    for (const p of [pid, child]) {
      const evs = events.filter((e) => e.pid === p && after(e));
      expect(evs.length).toBeGreaterThan(3);
      expect(evs.filter((e) => e.own !== true).map((e) => e.body?.$case)).toEqual([]);
      expect(factsOf(p, FactKind.FACT_KIND_SYSCALL).some((f) => f.fact.name === 'getpriority')).toBe(true);
    }
    // A process nobody marked is not own.
    await waitFor('exit of the control', () => events.some((e) => e.pid === controlPid && e.body?.$case === 'exit'));
    expect(events.filter((e) => e.pid === controlPid && e.own === true)).toEqual([]);
  });

  it('periodic counters: only active images, counts since the last report', async () => {
    const held = launcher.run([SYSCALL_LOOP, '--wait', '--iterations', '5000', '--then-exec', '/bin/sleep', '1'], { hold: true });
    const pid = await held.pid;
    await held.release();
    await held.done;
    const image = imageOf(pid, SYSCALL_LOOP);
    const reports = await waitFor('counters of the loop image', () => {
      const r = events.filter((e) => e.execId === image && e.body?.$case === 'counters');
      return r.some((e) => e.body?.$case === 'counters' && e.body.value.final) ? r : undefined;
    });
    const values = reports.map((e) => (e.body as { value: { syscalls: string; sinceNs: string; final: boolean } }).value);
    const syscalls = values.reduce((a, v) => a + BigInt(v.syscalls), 0n);
    expect(syscalls).toBeGreaterThanOrEqual(5000n);
    expect(syscalls).toBeLessThan(5200n);
    for (const [i, e] of reports.entries()) {
      expect(BigInt(values[i]!.sinceNs)).toBeLessThanOrEqual(BigInt(e.tsNs));
      expect(e.pid).toBe(pid);
    }
    // Nothing but ended or active images: every periodic report counts something.
    const periodic = events.filter((e) => e.body?.$case === 'counters' && !e.body.value.final);
    for (const e of periodic) {
      if (e.body?.$case !== 'counters') continue;
      const v = e.body.value;
      const sum = [v.syscalls, v.ioUringSubmissions, v.ioUringSetups, v.connects, v.sendsAddressed, v.accepts, v.opens, v.sensitiveOpens].reduce((a, x) => a + BigInt(x), 0n);
      expect(sum).toBeGreaterThan(0n);
    }
  });

  it('loses nothing and repeats nothing under this load', () => {
    const st = source.status();
    expect(st.droppedKernel).toBe('0');
    expect(st.droppedUser).toBe('0');
    const stats = source.factsStats();
    expect(stats.kernelErrors).toMatchObject({ STATE_ALLOC: '0', SQE_UNREAD: '0', COUNTERS_ALLOC: '0' });
    expect(stats.repeats).toBe(0);
  });
});

describe.skipIf(!probe.ok)('facts switched off by configuration', () => {
  it('loads no facts program, lists why, and still reports the lifecycle', async () => {
    const events: Event[] = [];
    const src = new KernelEventSource({
      node: 'facts-off',
      ringBufferBytes: 1 << 22,
      onEvents: (evs) => events.push(...evs),
      facts: { syscalls: false, ioUring: false, endpoints: false, files: false, countersIntervalMs: 0 }, // inbound follows endpoints
    });
    await src.start();
    try {
      const facts = src.status().programs.filter((p) => p.name.startsWith('facts_'));
      expect(facts).toHaveLength(8);
      for (const p of facts) {
        expect(p.attached).toBe(false);
        expect(p.error).toMatch(/^not loaded: .* off$/);
        expect(p.onPurpose, p.name).toBe(true);
      }
      // Zoom programs wait for a zoom (idle on purpose); the lifecycle programs run.
      const zoom = src.status().programs.filter((p) => p.name.startsWith('zoom_'));
      expect(zoom.length).toBeGreaterThan(0);
      for (const p of zoom) expect([p.name, p.attached, p.onPurpose]).toEqual([p.name, false, true]);
      expect(src.status().programs.find((p) => p.name === 'on_exec')).toMatchObject({ attached: true, onPurpose: false });
      const { spawn } = await import('node:child_process');
      const child = spawn('/bin/true');
      await new Promise((r) => child.on('exit', r));
      const until = Date.now() + 5000;
      while (!events.some((e) => e.pid === child.pid && e.body?.$case === 'exit') && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      expect(events.some((e) => e.pid === child.pid && e.body?.$case === 'exec')).toBe(true);
      expect(events.filter((e) => e.body?.$case === 'fact' || e.body?.$case === 'counters')).toEqual([]);
    } finally {
      await src.stop();
    }
  });
});

describe.skipIf(!!skipReason)('inbound endpoints with the syscall, file and counter facts off', () => {
  it('still sees accept calls: the sys_enter program stays attached for them', async () => {
    const events: Event[] = [];
    const launcher = new Launcher();
    const src = new KernelEventSource({
      node: 'inbound-only',
      ringBufferBytes: 1 << 22,
      onEvents: (evs) => events.push(...evs),
      facts: { syscalls: false, ioUring: false, files: false, countersIntervalMs: 0, endpoints: true },
    });
    await src.start();
    try {
      expect(src.status().programs.filter((p) => p.attached && p.name.startsWith('facts_')).map((p) => p.name)).toEqual(
        expect.arrayContaining(['facts_sys_enter', 'facts_sockops']),
      );
      const l = launcher.run([URING_PROBE, '--accept', '--syscalls']);
      const pid = await l.pid;
      const done = await l.done;
      expect(done.code, done.stderr).toBe(0);
      const port = (JSON.parse(done.stdout) as { accept_port: number }).accept_port;
      const until = Date.now() + 5000;
      const inbound = () =>
        events.filter((e) => e.pid === pid && e.body?.$case === 'fact' && e.body.value.direction === Direction.DIRECTION_INBOUND);
      while (inbound().length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      expect(inbound().map((e) => e.body?.$case === 'fact' && [e.body.value.port, e.body.value.via])).toEqual([[port, FactVia.FACT_VIA_SYSCALL]]);
      expect(events.filter((e) => e.body?.$case === 'fact' && e.body.value.kind === FactKind.FACT_KIND_SYSCALL)).toEqual([]);
    } finally {
      await src.stop();
    }
  });
});
