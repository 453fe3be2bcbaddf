/**
 * The decoder's view of the wire format (layout.ts) against the compiled object (events.h as
 * clang laid it out, read back from the object's BTF with bpftool), and a golden decode of
 * records the real programs produced on this kernel.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bpfObjectPath, loadAddon, type NativeSensor } from './addon';
import { RecordDecoder, splitArgs, splitWaitStatus } from './decode';
import { IORING_OPS } from './iouring';
import { EXEC_EVENT, EXIT_EVENT, ExecFlag, FORK_EVENT, HEADER, Op, WIRE_ENUMS, WIRE_STRUCTS } from './layout';
import { probeKernel } from './source';

interface BtfMember {
  name: string;
  bits_offset: number;
}
interface BtfType {
  id: number;
  kind: string;
  name?: string;
  size?: number;
  members?: BtfMember[];
  values?: Array<{ name: string; val: number }>;
}

function bpftoolMissing(): string | undefined {
  try {
    execFileSync('bpftool', ['version'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'bpftool not found in PATH';
  }
}

const objectPath = bpfObjectPath();
const layoutSkip = !existsSync(objectPath)
  ? `BPF object not built: ${objectPath} (run make -C sensor)`
  : bpftoolMissing();
if (layoutSkip) console.warn(`layout check skipped: ${layoutSkip}`);

describe.skipIf(layoutSkip !== undefined)('wire layout matches the compiled object (BTF)', () => {
  let types: BtfType[] = [];
  beforeAll(() => {
    const json = execFileSync('bpftool', ['-j', 'btf', 'dump', 'file', objectPath, 'format', 'raw'], {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    types = (JSON.parse(json) as { types: BtfType[] }).types;
  });

  for (const layout of WIRE_STRUCTS) {
    it(`struct ${layout.name}: size and every member offset`, () => {
      const t = types.find((x) => x.kind === 'STRUCT' && x.name === layout.name);
      expect(t, `struct ${layout.name} missing from the object's BTF`).toBeDefined();
      expect(t!.size).toBe(layout.size);
      const btfOffsets = Object.fromEntries(t!.members!.map((m) => [m.name, m.bits_offset / 8]));
      // Same members, same offsets: a member added, removed or moved on either side fails.
      expect(layout.fields).toEqual(btfOffsets);
    });
  }

  for (const { name, prefix, values } of WIRE_ENUMS) {
    it(`enum ${name} values match`, () => {
      const e = types.find((x) => x.kind === 'ENUM' && x.name === name);
      expect(e, `enum ${name} missing from the object's BTF`).toBeDefined();
      expect(Object.fromEntries(e!.values!.map((v) => [v.name.replace(prefix, ''), v.val]))).toEqual(values);
    });
  }

  it("io_uring opcode names match this kernel's enum io_uring_op", () => {
    const e = types.find((x) => x.kind === 'ENUM' && x.name === 'io_uring_op');
    expect(e, 'enum io_uring_op missing from the object BTF').toBeDefined();
    const kernel = e!.values!.filter((v) => v.name !== 'IORING_OP_LAST').sort((a, b) => a.val - b.val);
    // Every opcode this kernel has is named (newer kernels may add some: they show as OP_<n>).
    expect(kernel.map((v) => v.name.replace(/^IORING_OP_/, ''))).toEqual(IORING_OPS.slice(0, kernel.length));
    expect(kernel.map((v) => v.val)).toEqual(kernel.map((_, i) => i));
  });

  it('enum soc_op values match Op', () => {
    const e = types.find((x) => x.kind === 'ENUM' && x.name === 'soc_op');
    expect(e).toBeDefined();
    const btf = Object.fromEntries(e!.values!.map((v) => [v.name.replace(/^SOC_OP_/, ''), v.val]));
    const { UNSPEC, ...named } = btf;
    expect(UNSPEC).toBe(0);
    expect(named).toEqual(Op);
  });
});

describe('decoder helpers', () => {
  it('splits wait(2) statuses', () => {
    expect(splitWaitStatus(0)).toEqual({ exitCode: 0, signal: 0 });
    expect(splitWaitStatus(3 << 8)).toEqual({ exitCode: 3, signal: 0 });
    expect(splitWaitStatus(255 << 8)).toEqual({ exitCode: 255, signal: 0 });
    expect(splitWaitStatus(9)).toEqual({ exitCode: 0, signal: 9 });
    expect(splitWaitStatus(11 | 0x80)).toEqual({ exitCode: 0, signal: 11 }); // core dumped
  });

  it('splits argv on NUL without a trailing empty argument', () => {
    const b = Buffer.from('sleep\u00001\u0000', 'latin1');
    expect(splitArgs(b, 0, b.length)).toEqual(['sleep', '1']);
    const t = Buffer.from('a\u0000b\u0000trunc', 'latin1'); // truncated: no final NUL
    expect(splitArgs(t, 0, t.length)).toEqual(['a', 'b', 'trunc']);
    expect(splitArgs(Buffer.alloc(0), 0, 0)).toEqual([]);
  });
});

const probe = probeKernel();
if (!probe.ok) console.warn(`golden decode skipped: ${probe.reason}`);

describe.skipIf(!probe.ok)('golden: records produced by the real programs', () => {
  let sensor: NativeSensor;
  const batches: Buffer[] = [];
  let wallOffsetNs = 0n;

  beforeAll(() => {
    const addon = loadAddon();
    wallOffsetNs = addon.clockOffsetNs();
    sensor = new addon.Sensor(bpfObjectPath(), { ringBufferBytes: 1 << 22 });
    sensor.load();
    for (const p of sensor.attach()) expect(p.attached, `${p.name}: ${p.error}`).toBe(true);
    sensor.start((b) => batches.push(Buffer.from(b)));
  });
  afterAll(async () => {
    await sensor?.stop();
  });

  function recordsOf(pid: number): Array<{ op: number; rec: Buffer }> {
    const out: Array<{ op: number; rec: Buffer }> = [];
    for (const b of batches) {
      for (let off = 0; off + HEADER.size <= b.length; ) {
        const size = b.readUInt16LE(off + HEADER.fields.size);
        const rec = b.subarray(off, off + size);
        const tgid = rec.readUInt32LE(HEADER.fields.tgid);
        const op = rec.readUInt16LE(HEADER.fields.op);
        const child = op === Op.FORK ? rec.readUInt32LE(FORK_EVENT.fields.child_tgid) : 0;
        if (tgid === pid || child === pid) out.push({ op, rec });
        off += size;
      }
    }
    return out;
  }

  it('exec, fork and exit records of `sh -c "exit 7"` decode to what happened', async () => {
    const cwd = realpathSync(os.tmpdir());
    const bootBefore = loadAddon().bootTimeNs();
    const child = spawn('/bin/sh', ['-c', 'exit 7', 'golden-arg0'], { cwd });
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    expect(code).toBe(7);
    await sensor.flush();
    const pid = child.pid!;
    const recs = recordsOf(pid);

    const fork = recs.find((r) => r.op === Op.FORK);
    const exec = recs.find((r) => r.op === Op.EXEC);
    const exit = recs.find((r) => r.op === Op.EXIT);
    expect(fork && exec && exit, 'fork, exec and exit records').toBeTruthy();

    // Raw bytes, field by field.
    const e = exec!.rec;
    const binary = realpathSync('/bin/sh');
    const argv = Buffer.from('/bin/sh\u0000-c\u0000exit 7\u0000golden-arg0\u0000');
    expect(e.readUInt16LE(HEADER.fields.reserved)).toBe(0);
    expect(e.readUInt32LE(HEADER.fields.tgid)).toBe(pid);
    expect(e.readUInt32LE(HEADER.fields.tid)).toBe(pid);
    expect(e.readBigUInt64LE(HEADER.fields.ktime_ns)).toBeGreaterThan(bootBefore);
    expect(e.readUInt32LE(EXEC_EVENT.fields.key + 16)).toBe(pid); // key.tgid
    expect(e.readUInt32LE(EXEC_EVENT.fields.ppid)).toBe(process.pid);
    expect(e.readUInt32LE(EXEC_EVENT.fields.uid)).toBe(process.getuid!());
    expect(e.readUInt32LE(EXEC_EVENT.fields.euid)).toBe(process.geteuid!());
    expect(e.readUInt16LE(EXEC_EVENT.fields.binary_len)).toBe(Buffer.byteLength(binary));
    expect(e.readUInt16LE(EXEC_EVENT.fields.cwd_len)).toBe(Buffer.byteLength(cwd));
    expect(e.readUInt16LE(EXEC_EVENT.fields.args_len)).toBe(argv.length);
    const leafLen = e.readUInt16LE(EXEC_EVENT.fields.cgroup_name_len);
    expect(e.length).toBe(EXEC_EVENT.size + Buffer.byteLength(binary) + Buffer.byteLength(cwd) + argv.length + leafLen);
    let p = EXEC_EVENT.size;
    expect(e.toString('utf8', p, (p += Buffer.byteLength(binary)))).toBe(binary);
    expect(e.toString('utf8', p, (p += Buffer.byteLength(cwd)))).toBe(cwd);
    expect(e.subarray(p, p + argv.length).equals(argv)).toBe(true);
    expect(e.readUInt16LE(HEADER.fields.flags) & ExecFlag.SEEDED).toBe(0);

    expect(fork!.rec.length).toBe(FORK_EVENT.size);
    expect(fork!.rec.readUInt32LE(HEADER.fields.tgid)).toBe(process.pid);
    expect(exit!.rec.length).toBe(EXIT_EVENT.size);
    expect(exit!.rec.readUInt32LE(EXIT_EVENT.fields.status)).toBe(7 << 8);

    // The same bytes through the decoder.
    const decoder = new RecordDecoder({ node: 'golden', boot: 'b00710ad', wallOffsetNs });
    const events = decoder.decode(Buffer.concat([fork!.rec, exec!.rec, exit!.rec]));
    expect(decoder.stats).toMatchObject({ records: 3, events: 3, malformed: 0 });
    const [f, x, q] = events;
    expect(f!.body).toEqual({ $case: 'fork', value: { childPid: pid, parentPid: process.pid } });
    expect(x!.body?.$case).toBe('exec');
    if (x!.body?.$case !== 'exec') return;
    const v = x!.body.value;
    expect(v).toMatchObject({
      binary,
      cwd,
      argv: ['/bin/sh', '-c', 'exit 7', 'golden-arg0'],
      argvTruncated: false,
      ppid: process.pid,
      comm: 'sh',
      seeded: false,
      parentExecId: f!.execId, // a forked child's exec: its parent image is the forking image
    });
    expect(v.startNs).toBe(x!.tsNs);
    expect(x!.execId).toMatch(new RegExp(`^golden:b00710ad:\\d+:${pid}:\\d+$`));
    expect(q!.execId).toBe(x!.execId);
    expect(q!.body).toEqual({ $case: 'exit', value: { exitCode: 7, signal: 0 } });
    // Wall clock: within a minute of now.
    const nowNs = BigInt(Date.now()) * 1_000_000n;
    for (const ev of events) {
      const d = BigInt(ev.tsNs) - nowNs;
      expect(d < 60_000_000_000n && d > -60_000_000_000n).toBe(true);
    }
  });

  it('the seeding iterator writes exec records with the SEEDED flag', () => {
    const out = sensor.runIterator('seed_tasks');
    const decoder = new RecordDecoder({ node: 'golden', boot: 'b00710ad', wallOffsetNs });
    const events = decoder.decode(out);
    expect(decoder.stats.malformed).toBe(0);
    const self = events.find((e) => e.pid === process.pid);
    expect(self?.body?.$case).toBe('exec');
    if (self?.body?.$case !== 'exec') return;
    expect(self.body.value.seeded).toBe(true);
    expect(self.body.value.binary).toBe(realpathSync(process.execPath));
    expect(self.body.value.cwd).toBe(realpathSync(process.cwd()));
    expect(self.body.value.argv).toEqual([]); // completed from /proc by seeding
  });
});
