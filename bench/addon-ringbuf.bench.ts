/**
 * Ring buffer -> JavaScript: how many kernel records per second the addon delivers to JS, how
 * fast the TS decoder turns records into proto Events, and what is dropped on the way.
 *
 *   npx tsx bench/addon-ringbuf.bench.ts [--seconds-cap 20] [--syscalls 3000000] [--procs 3000]
 *
 * Needs root (or CAP_BPF + CAP_PERFMON) and `make -C sensor`. Prints one JSON object per phase:
 *
 *  capacity  A syscall-bound generator (dd bs=1: one read + one write per byte) runs while the
 *            opt-in program bench_sys_enter reports each of its syscalls: real kernel records at
 *            rates process lifecycle never reaches. Measures delivered records/s into the JS
 *            callback and drops (kernel: ring full; user: batches JS could not take).
 *  decode    The decoder alone over real exec/fork/exit records captured from this kernel,
 *            replicated into 256 KiB batches: records/s and events/s.
 *  storm     A fork/exec storm (a shell loop running /bin/true) through KernelEventSource with
 *            full decoding and cgroup resolution: events/s end to end, drops, and the latency
 *            from the last exit to its delivery.
 */
import { spawn } from 'node:child_process';
import { bpfObjectPath, loadAddon } from '../sensor/src/kernel/addon';
import { RecordDecoder } from '../sensor/src/kernel/decode';
import { Op } from '../sensor/src/kernel/layout';
import { FACT_PROGRAMS, KernelEventSource, probeKernel } from '../sensor/src/kernel/source';
import type { Event } from '../sensor/gen/soc/sensor/v1/sensor';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}

const SYSCALLS = arg('syscalls', 3_000_000); // dd bytes: ~2 syscalls each
const PROCS = arg('procs', 3000);

function sum(xs: bigint[]): bigint {
  return xs.reduce((a, b) => a + b, 0n);
}

async function capacity(): Promise<Record<string, unknown>> {
  const addon = loadAddon();
  // The generator waits for a line on stdin so its tgid is known before the programs load.
  const gen = spawn('sh', ['-c', `read go; exec dd if=/dev/zero of=/dev/null bs=1 count=${SYSCALLS} status=none`], {
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  await new Promise((r) => gen.once('spawn', r));
  const sensor = new addon.Sensor(bpfObjectPath(), {
    enablePrograms: ['bench_sys_enter'],
    benchTgid: gen.pid!,
    // Only the delivery path is measured here (facts-overhead.bench.ts measures the facts).
    disablePrograms: Object.fromEntries(Object.values(FACT_PROGRAMS).flat().map((n) => [n, 'not measured here'])),
  });
  sensor.load();
  const programs = sensor.attach();
  const bench = programs.find((p) => p.name === 'bench_sys_enter');
  if (!bench?.attached) throw new Error(`bench program not attached: ${bench?.error}`);

  let records = 0;
  let batches = 0;
  sensor.start((_buf, n) => {
    records += n;
    batches++;
  });
  const t0 = process.hrtime.bigint();
  gen.stdin!.write('go\n');
  const exited = new Promise((r) => gen.on('exit', r));
  await exited;
  const tGen = process.hrtime.bigint();
  await sensor.flush();
  const tDone = process.hrtime.bigint();
  const s = sensor.stats();
  await sensor.stop();
  const seconds = Number(tDone - t0) / 1e9;
  return {
    phase: 'capacity',
    generator: `dd bs=1 count=${SYSCALLS}`,
    generatorSeconds: Number(tGen - t0) / 1e9,
    seconds,
    recordsDelivered: records,
    batches,
    recordsPerSecond: Math.round(records / seconds),
    mibPerSecond: Number((Number(s.bytesDelivered) / seconds / (1 << 20)).toFixed(1)),
    droppedKernel: Number(s.kernelDropsByOp[Op.BENCH]),
    droppedUserRecords: Number(s.userDroppedRecords),
    droppedUserBatches: Number(s.userDroppedBatches),
  };
}

async function captureLifecycle(): Promise<Buffer> {
  // Real exec/fork/exit records from this kernel, as the decoder input.
  const addon = loadAddon();
  const sensor = new addon.Sensor(bpfObjectPath(), { ringBufferBytes: 1 << 24 });
  sensor.load();
  sensor.attach();
  const chunks: Buffer[] = [];
  sensor.start((b) => chunks.push(Buffer.from(b)));
  const child = spawn('sh', ['-c', 'for i in 1 2 3 4 5 6 7 8 9 10; do /bin/true --some-arg "$i"; done'], {
    stdio: 'ignore',
  });
  await new Promise((r) => child.on('exit', r));
  await sensor.flush();
  await sensor.stop();
  return Buffer.concat(chunks);
}

function decode(sample: Buffer, wallOffsetNs: bigint): Record<string, unknown> {
  const target = 256 * 1024;
  const reps = Math.max(1, Math.floor(target / sample.length));
  const batch = Buffer.concat(Array.from({ length: reps }, () => sample));
  const probeDecoder = new RecordDecoder({ node: 'bench', boot: '00000000', wallOffsetNs });
  probeDecoder.decode(batch);
  const perBatch = probeDecoder.stats.records;
  const ops: Record<string, number> = { exec: 0, fork: 0, exit: 0 };
  for (const e of probeDecoder.decode(sample)) if (e.body) ops[e.body.$case] = (ops[e.body.$case] ?? 0) + 1;

  const decoder = new RecordDecoder({ node: 'bench', boot: '00000000', wallOffsetNs });
  const until = Date.now() + 3000;
  const t0 = process.hrtime.bigint();
  let events = 0;
  let n = 0;
  while (Date.now() < until) {
    const out: Event[] = [];
    decoder.decode(batch, out);
    events += out.length;
    n++;
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return {
    phase: 'decode',
    sampleMix: ops,
    batchBytes: batch.length,
    recordsPerBatch: perBatch,
    recordsPerSecond: Math.round((n * perBatch) / seconds),
    eventsPerSecond: Math.round(events / seconds),
    mibPerSecond: Number(((n * batch.length) / seconds / (1 << 20)).toFixed(1)),
  };
}

async function storm(): Promise<Record<string, unknown>> {
  let events = 0;
  let lastExitSeen = 0n;
  let genPid = 0;
  const src = new KernelEventSource({
    node: 'bench',
    onEvents: (evs) => {
      events += evs.length;
      for (const e of evs) if (e.pid === genPid && e.body?.$case === 'exit') lastExitSeen = process.hrtime.bigint();
    },
  });
  await src.start();
  const before = events;
  const t0 = process.hrtime.bigint();
  const gen = spawn('sh', ['-c', `i=0; while [ $i -lt ${PROCS} ]; do /bin/true; i=$((i+1)); done`], {
    stdio: 'ignore',
  });
  genPid = gen.pid!;
  await new Promise((r) => gen.on('exit', r));
  const tExit = process.hrtime.bigint();
  while (lastExitSeen === 0n && process.hrtime.bigint() - tExit < 2_000_000_000n) {
    await new Promise((r) => setTimeout(r, 1));
  }
  const seconds = Number(tExit - t0) / 1e9;
  const st = src.status();
  await src.stop();
  const delivered = events - before;
  return {
    phase: 'storm',
    generator: `sh loop of ${PROCS} x /bin/true (fork + exec + exit each)`,
    seconds,
    processesPerSecond: Math.round(PROCS / seconds),
    eventsDelivered: delivered,
    eventsPerSecond: Math.round(delivered / seconds),
    lastExitLatencyMs: lastExitSeen ? Number(lastExitSeen - tExit) / 1e6 : null,
    droppedKernel: Number(st.droppedKernel),
    droppedUser: Number(st.droppedUser),
  };
}

async function main(): Promise<void> {
  const probe = probeKernel();
  if (!probe.ok) {
    console.log(JSON.stringify({ skipped: probe.reason }));
    process.exitCode = 1;
    return;
  }
  const addon = loadAddon();
  const info = { cpus: (await import('node:os')).cpus().length, kernel: (await import('node:os')).release(), libbpf: addon.libbpfVersion(), node: process.version };
  console.log(JSON.stringify({ phase: 'env', ...info }));
  console.log(JSON.stringify(await capacity()));
  const sample = await captureLifecycle();
  console.log(JSON.stringify(decode(sample, addon.clockOffsetNs())));
  console.log(JSON.stringify(await storm()));
  void sum;
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
