/**
 * The zoom manager: turns orders into kernel state and ends every zoom by itself.
 *
 *  ZoomIn    check the order against the policy -> resolve the target to tgids (an exec id via
 *            the process index, a pid, a cgroup) -> take a kernel slot (limits armed, counters
 *            zeroed) -> write the targets -> attach the programs the probe sets need (shared
 *            with other zooms: attached while any zoom needs them) -> ACTIVE, TTL timer started.
 *  end       (TTL, budget, cancel, sensor stop) the slot goes inactive first — the kernel emits
 *            nothing more for it from its next event — then the ring buffer is flushed (evidence
 *            already written is delivered before the end state), the targets are removed and
 *            programs nobody needs any more are detached.
 *
 * Everything that bounds a zoom runs here, in the sensor process: a cockpit that disappears
 * changes nothing (the TTL timer ends the zoom), and a sensor that dies takes its programs with
 * it (links are owned by the process's file descriptors; nothing is pinned).
 *
 * Every state change goes into the event stream as a ZoomState event (in-band lifecycles).
 */
import { readFileSync, readlinkSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { status as GrpcStatus } from '@grpc/grpc-js';
import {
  CodeKind,
  ProbeSet,
  ZoomStatus,
  type CancelZoomRequest,
  type CodeFingerprint,
  type Event,
  type Zoom,
  type ZoomRequest,
} from '../../gen/soc/sensor/v1/sensor';
import { CodeFingerprinter, mappingSources, readExecMappings, type ExecMapping } from '../code/fingerprint';
import { ZOOM_SLOTS, ZoomProbe } from '../kernel/layout';
import { programsFor, type ZoomKernel, type ZoomSlotCounters, type ZoomTargetValue } from '../kernel/zoom';
import { silentLogger, type Logger } from '../log';
import { checkOrder, checkPolicy, probeName, ZoomOrderError, type ZoomPolicy } from './policy';
import { ProcessIndex } from './processes';

/** What the manager needs from the live sensor. */
export interface ZoomHost {
  node: string;
  /** the sensor's producer epoch: zoom ids are unique across sensor runs */
  epoch: string;
  /** kernel control; undefined when no kernel side runs (then orders are refused) */
  kernel(): ZoomKernel | undefined;
  /** delivers every record the kernel already wrote (through observe()) */
  flush(): Promise<void>;
  /** wall-clock ns, on the clock evidence timestamps use */
  nowNs(): string;
  /** appends events to the stream (ZoomState, code fingerprints) */
  emit(events: Event[]): void;
  /** the sensor's own processes (and those it marked): never zoom targets */
  isOwn(pid: number): boolean;
  /** cgroup v2 mount point */
  cgroupRoot: string | undefined;
  /** a cgroup id -> its path below the root */
  cgroupPath(id: string): string | undefined;
}

/** Who sent an order: from the TLS layer, not from the order. */
export interface OrderContext {
  clientSubject: string;
  /** when the order arrived: process.hrtime.bigint() (for the attach latency) */
  receivedHr?: bigint;
}

interface Active {
  zoom: Zoom;
  no: number;
  slot: number;
  mask: number;
  programs: string[];
  tgids: Set<number>;
  cgroup: { id: bigint; level: number } | undefined;
  timer: NodeJS.Timeout;
  kernelBudget: number;
  fingerprints: number;
  fingerprintsDropped: number;
  seenCode: Set<string>;
  counters: ZoomSlotCounters | undefined;
  ending: Promise<void> | undefined;
}

interface ResolvedTarget {
  tgids: number[];
  members: number[];
  cgroup: { id: bigint; level: number } | undefined;
}

const POLL_MS = 100;
const MAX_JIT_PER_PROCESS = 8;
const CODE_SCAN_DELAY_MS = 50;
const MAX_CGROUP_PROCS = 10_000;

export class ZoomManager {
  readonly processes = new ProcessIndex();
  private readonly active = new Map<string, Active>();
  private readonly byNo = new Map<number, Active>();
  private readonly ended: Zoom[] = [];
  /** ids of ended zooms by number: their last records may still be in flight */
  private readonly endedIds = new Map<number, string>();
  private nextNo = 1;
  private poller: NodeJS.Timeout | undefined;
  private readonly fingerprinter = new CodeFingerprinter();
  private codeQueue: Promise<void> = Promise.resolve();
  private readonly log: Logger;
  private stopped = false;

  constructor(
    private readonly host: ZoomHost,
    readonly policy: ZoomPolicy,
    logger?: Logger,
  ) {
    checkPolicy(policy);
    this.log = logger ?? silentLogger;
  }

  /** Zoom number (as the kernel writes it) -> Zoom.id, for the decoder. */
  zoomIdOf(no: number): string | undefined {
    return this.byNo.get(no)?.zoom.id ?? this.endedIds.get(no);
  }

  // --- orders ----------------------------------------------------------------------------------

  async zoomIn(req: ZoomRequest, ctx: OrderContext): Promise<Zoom> {
    const receivedHr = ctx.receivedHr ?? process.hrtime.bigint();
    const received = BigInt(this.host.nowNs());
    if (this.stopped) throw new ZoomOrderError(GrpcStatus.UNAVAILABLE, 'sensor stopping');
    const kernel = this.host.kernel();
    if (!kernel) throw new ZoomOrderError(GrpcStatus.FAILED_PRECONDITION, 'no kernel side: this sensor cannot zoom (replay, or eBPF not running)');
    const order = checkOrder(req, this.policy);
    if (this.active.size >= this.policy.maxConcurrent) {
      throw new ZoomOrderError(GrpcStatus.RESOURCE_EXHAUSTED, `${this.active.size} zooms active: this sensor runs at most ${this.policy.maxConcurrent} at a time`);
    }
    const programs = programsFor(order.mask);
    const missing = kernel.missing(programs);
    if (missing.length > 0) {
      throw new ZoomOrderError(
        GrpcStatus.FAILED_PRECONDITION,
        `probe sets ${order.probes.map(probeName).join(', ')} need programs this kernel did not load: ${missing.map((m) => `${m.program} (${m.reason})`).join('; ')}`,
      );
    }
    const target = this.resolveTarget(req);
    this.checkOverlap(kernel, target.tgids, target.cgroup);
    const slot = this.freeSlot();
    const no = this.nextNo++;
    const follow = order.probes.includes(ProbeSet.PROBE_SET_CHILDREN);
    const now = this.host.nowNs();
    const zoom: Zoom = {
      id: `z-${this.host.epoch.replace(/-/g, '').slice(0, 16)}-${no}`,
      status: ZoomStatus.ZOOM_STATUS_ORDERED,
      reason: 'ordered',
      error: '',
      target: req.target,
      targetTgids: [...target.members],
      probes: order.probes,
      ttlS: order.ttlS,
      maxEvents: String(order.maxEvents),
      maxEventsPerS: order.maxEventsPerS,
      payloadPrefixBytes: order.payloadPrefixBytes,
      orderedAtNs: received.toString(),
      startedAtNs: '0',
      expiresAtNs: '0',
      endedAtNs: '0',
      eventsEmitted: '0',
      eventsDropped: '0',
      droppedRate: '0',
      droppedBudget: '0',
      droppedRing: '0',
      attachNs: '0',
      investigationId: req.investigationId,
      requestedBy: req.requestedBy,
      clientSubject: ctx.clientSubject,
      orderReason: req.reason,
      programs,
      fingerprints: '0',
    };
    const a: Active = {
      zoom,
      no,
      slot,
      mask: order.mask,
      programs,
      tgids: new Set(target.members),
      cgroup: target.cgroup,
      timer: undefined as unknown as NodeJS.Timeout,
      kernelBudget: order.maxEvents,
      fingerprints: 0,
      fingerprintsDropped: 0,
      seenCode: new Set(),
      counters: undefined,
      ending: undefined,
    };
    this.active.set(zoom.id, a);
    this.byNo.set(no, a);
    this.emitState(a);
    const value: ZoomTargetValue = { zoomNo: no, slot, probes: order.mask, prefixLen: order.payloadPrefixBytes, followChildren: follow };
    let attached = false;
    try {
      kernel.startSlot(slot, no, BigInt(order.maxEvents), order.maxEventsPerS);
      for (const tgid of target.tgids) kernel.addTgid(tgid, value);
      if (target.cgroup) kernel.addCgroup(target.cgroup.id, target.cgroup.level, value);
      kernel.acquire(programs);
      attached = true;
    } catch (e) {
      await this.finish(a, ZoomStatus.ZOOM_STATUS_FAILED, 'the probes could not be attached', (e as Error).message, attached);
      return zoom;
    }
    const started = BigInt(this.host.nowNs());
    zoom.status = ZoomStatus.ZOOM_STATUS_ACTIVE;
    zoom.reason = 'probes attached';
    zoom.startedAtNs = started.toString();
    zoom.expiresAtNs = (started + BigInt(order.ttlS) * 1_000_000_000n).toString();
    zoom.attachNs = (process.hrtime.bigint() - receivedHr).toString();
    a.timer = setTimeout(() => void this.end(a, ZoomStatus.ZOOM_STATUS_EXPIRED, `TTL of ${order.ttlS} s ran out`), order.ttlS * 1000);
    this.emitState(a);
    this.log.info('zoom started', {
      zoom: zoom.id,
      target: describeTarget(req),
      tgids: zoom.targetTgids,
      probes: order.probes.map(probeName),
      ttlS: order.ttlS,
      maxEvents: order.maxEvents,
      attachUs: Number(zoom.attachNs) / 1000,
      requestedBy: req.requestedBy,
      client: ctx.clientSubject,
    });
    this.ensurePoller();
    if (order.mask & probeBitCode) for (const tgid of target.members) this.queueProcessCode(a, tgid, zoom.startedAtNs);
    return { ...zoom };
  }

  async cancel(req: CancelZoomRequest, ctx: OrderContext): Promise<Zoom> {
    const a = this.active.get(req.zoomId);
    if (a) {
      const why = `cancelled by ${req.requestedBy || ctx.clientSubject || 'a client'}${req.reason ? `: ${req.reason}` : ''}`;
      await this.end(a, ZoomStatus.ZOOM_STATUS_CANCELLED, why);
      return { ...a.zoom };
    }
    const done = this.ended.find((z) => z.id === req.zoomId);
    if (done) return { ...done };
    throw new ZoomOrderError(GrpcStatus.NOT_FOUND, `no zoom ${req.zoomId} on this sensor (zooms end with the sensor process that ran them)`);
  }

  list(activeOnly = false): Zoom[] {
    this.refreshCounters();
    const live = [...this.active.values()].map((a) => ({ ...a.zoom }));
    return activeOnly ? live : [...live, ...this.ended.map((z) => ({ ...z }))];
  }

  attachedPrograms(): number {
    return this.host.kernel()?.attachedPrograms().length ?? 0;
  }

  /** Ends every zoom (sensor shutdown). */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.active.values()].map((a) => this.end(a, ZoomStatus.ZOOM_STATUS_CANCELLED, 'sensor stopping')));
    if (this.poller) clearInterval(this.poller);
    this.poller = undefined;
    await this.codeQueue.catch(() => undefined);
  }

  // --- the event stream ------------------------------------------------------------------------

  /**
   * Sees every kernel event before it enters the stream: keeps the process index, follows
   * targets across fork and exec, and takes the executable-mapping records (code fingerprints
   * are computed asynchronously and appended when ready). Returns the events to append.
   */
  observe(events: Event[]): Event[] {
    this.processes.observe(events);
    if (this.active.size === 0) return events.some(isPendingCode) ? events.filter((e) => !isPendingCode(e)) : events;
    let out: Event[] | undefined;
    for (let i = 0; i < events.length; i++) {
      const ev = events[i]!;
      const body = ev.body;
      let keep = true;
      if (body?.$case === 'code' && body.value.sha256 === '' && ev.zoomId) {
        keep = false;
        const a = this.activeById(ev.zoomId);
        if (a) this.queueMapping(a, ev.pid, body.value);
      } else if (body?.$case === 'fork') {
        const a = this.zoomOfTgid(ev.pid);
        if (a && this.follows(a)) {
          a.tgids.add(body.value.childPid);
          a.zoom.targetTgids = [...a.tgids];
        }
      } else if (body?.$case === 'exec') {
        // Same tgid, new image: still targeted (see ZoomTarget.exec_id); its code is new.
        const a = this.zoomOfTgid(ev.pid);
        if (a && a.mask & probeBitCode) {
          const pid = ev.pid;
          setTimeout(() => this.queueProcessCode(a, pid, ev.tsNs), CODE_SCAN_DELAY_MS).unref();
        }
      }
      if (!keep && !out) out = events.slice(0, i);
      else if (keep && out) out.push(ev);
    }
    return out ?? events;
  }

  // --- ending ----------------------------------------------------------------------------------

  private end(a: Active, status: ZoomStatus, reason: string): Promise<void> {
    a.ending ??= this.finish(a, status, reason, '', true);
    return a.ending;
  }

  private async finish(a: Active, status: ZoomStatus, reason: string, error: string, release: boolean): Promise<void> {
    const kernel = this.host.kernel();
    clearTimeout(a.timer);
    try {
      kernel?.stopSlot(a.slot, a.no); // from the next event on, nothing more for this zoom
    } catch (e) {
      this.log.warn('zoom stop failed', { zoom: a.zoom.id, error: (e as Error).message });
    }
    // What the kernel wrote before the stop reaches the stream before the end state.
    await this.host.flush().catch(() => undefined);
    if (kernel) {
      this.readCounters(a, kernel);
      try {
        for (const [tgid, no] of kernel.targets()) if (no === a.no) kernel.removeTgid(tgid);
        if (a.cgroup) kernel.removeCgroup(a.cgroup.id, a.cgroup.level);
      } catch (e) {
        this.log.warn('zoom target removal failed', { zoom: a.zoom.id, error: (e as Error).message });
      }
      if (release) kernel.release(a.programs);
    }
    const z = a.zoom;
    z.status = status;
    z.reason = reason;
    z.error = error;
    z.endedAtNs = this.host.nowNs();
    this.active.delete(z.id);
    this.byNo.delete(a.no);
    this.endedIds.set(a.no, z.id);
    this.ended.unshift(z);
    while (this.ended.length > this.policy.keepEnded) {
      const old = this.ended.pop()!;
      for (const [no, id] of this.endedIds) if (id === old.id) this.endedIds.delete(no);
    }
    this.emitState(a);
    this.log.info('zoom ended', { zoom: z.id, status: ZoomStatus[status], reason, error, emitted: z.eventsEmitted, dropped: z.eventsDropped });
    if (this.active.size === 0 && this.poller) {
      clearInterval(this.poller);
      this.poller = undefined;
    }
  }

  // --- counters and budget ---------------------------------------------------------------------

  private ensurePoller(): void {
    if (this.poller) return;
    this.poller = setInterval(() => this.poll(), POLL_MS);
    this.poller.unref();
  }

  /** Reads the kernel counters; a zoom whose budget is spent is ended (EXHAUSTED). */
  private poll(): void {
    const kernel = this.host.kernel();
    if (!kernel) return;
    let targets: Map<number, number> | undefined;
    try {
      const all = kernel.counters();
      targets = kernel.targets();
      for (const a of this.active.values()) {
        if (a.ending) continue;
        this.applyCounters(a, all[a.slot]);
        if (a.counters && (a.counters.used >= BigInt(a.kernelBudget) || a.counters.droppedBudget > 0n)) {
          void this.end(a, ZoomStatus.ZOOM_STATUS_EXHAUSTED, `event budget of ${a.zoom.maxEvents} used up`);
        }
      }
    } catch (e) {
      this.log.warn('zoom counters unreadable', { error: (e as Error).message });
    }
    // Children the kernel added (fork of a target that follows children).
    if (targets) {
      for (const [tgid, no] of targets) {
        const a = this.byNo.get(no);
        if (a && !a.tgids.has(tgid)) {
          a.tgids.add(tgid);
          a.zoom.targetTgids = [...a.tgids];
        }
      }
    }
  }

  private refreshCounters(): void {
    const kernel = this.host.kernel();
    if (!kernel) return;
    for (const a of this.active.values()) this.readCounters(a, kernel);
  }

  private readCounters(a: Active, kernel: ZoomKernel): void {
    try {
      this.applyCounters(a, kernel.counters()[a.slot]);
    } catch {
      /* keep the last values */
    }
  }

  private applyCounters(a: Active, c: ZoomSlotCounters | undefined): void {
    if (!c) return;
    a.counters = c;
    const emitted = c.emitted.reduce((s, v) => s + v, 0n) + BigInt(a.fingerprints);
    const z = a.zoom;
    z.eventsEmitted = emitted.toString();
    z.droppedRate = c.droppedRate.toString();
    z.droppedBudget = (c.droppedBudget + BigInt(a.fingerprintsDropped)).toString();
    z.droppedRing = c.droppedRing.toString();
    z.eventsDropped = (c.droppedRate + c.droppedBudget + c.droppedRing + BigInt(a.fingerprintsDropped)).toString();
    z.fingerprints = String(a.fingerprints);
  }

  /** User space spends budget too (fingerprints): one unit, taken from the kernel's share. */
  private takeUserBudget(a: Active): boolean {
    const used = Number(a.counters?.used ?? 0n);
    if (a.ending || used + a.fingerprints >= Number(a.zoom.maxEvents)) {
      a.fingerprintsDropped++;
      return false;
    }
    a.fingerprints++;
    a.kernelBudget = Number(a.zoom.maxEvents) - a.fingerprints;
    try {
      this.host.kernel()?.setBudget(a.slot, a.no, BigInt(a.kernelBudget), a.zoom.maxEventsPerS);
    } catch {
      /* the poller ends the zoom if the kernel side is gone */
    }
    return true;
  }

  // --- code fingerprints -----------------------------------------------------------------------

  /** The executable and every executable mapping of a targeted process. */
  private queueProcessCode(a: Active, pid: number, atNs: string): void {
    this.enqueue(async () => {
      if (a.ending) return;
      let exe = '';
      try {
        exe = readlinkSync(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, '');
      } catch {
        return; // gone already
      }
      await this.emitCode(a, pid, `exe|${exe}|${safeIno(`/proc/${pid}/exe`)}`, {
        path: exe,
        readFrom: [`/proc/${pid}/exe`, `/proc/${pid}/root${exe}`],
        executable: true,
        mappedAtNs: atNs,
      });
      let maps: ExecMapping[] = [];
      try {
        maps = await readExecMappings(pid);
      } catch {
        return;
      }
      let jit = 0;
      for (const m of maps) {
        if (a.ending) return;
        if (m.path === exe) continue;
        if (!m.path) {
          if (jit++ < MAX_JIT_PER_PROCESS) this.emitJit(a, pid, BigInt(`0x${m.start}`).toString(), atNs);
          continue;
        }
        await this.emitCode(a, pid, `map|${m.path}|${m.inode}`, {
          path: m.path,
          readFrom: mappingSources(pid, m),
          executable: false,
          mapAddress: BigInt(`0x${m.start}`).toString(),
          mappedAtNs: atNs,
        });
      }
    });
  }

  /** An executable mapping the kernel reported (mmap with PROT_EXEC by a target). */
  private queueMapping(a: Active, pid: number, partial: CodeFingerprint): void {
    this.enqueue(async () => {
      if (a.ending) return;
      if (partial.kind === CodeKind.CODE_KIND_JIT || !partial.path) {
        this.emitJit(a, pid, partial.mapAddress, partial.mappedAtNs);
        return;
      }
      const addr = BigInt(partial.mapAddress);
      let sources = [`/proc/${pid}/root${partial.path}`, partial.path];
      let inode = '';
      try {
        const m = (await readExecMappings(pid)).find((x) => BigInt(`0x${x.start}`) <= addr && addr < BigInt(`0x${x.end}`));
        if (m) {
          sources = mappingSources(pid, m);
          inode = m.inode.toString();
        }
      } catch {
        /* the process is gone: the path is all there is */
      }
      await this.emitCode(a, pid, `map|${partial.path}|${inode}`, {
        path: partial.path,
        readFrom: sources,
        executable: false,
        mapAddress: partial.mapAddress,
        mappedAtNs: partial.mappedAtNs,
      });
    });
  }

  private emitJit(a: Active, pid: number, mapAddress: string, atNs: string): void {
    const key = `jit|${pid}|${mapAddress}`;
    if (a.seenCode.has(key) || !this.takeUserBudget(a)) return;
    a.seenCode.add(key);
    this.emitEvidence(a, pid, {
      path: '',
      kind: CodeKind.CODE_KIND_JIT,
      language: 'unknown',
      runtime: '',
      evidence: ['anonymous executable memory (JIT output, or code loaded without a file)'],
      buildId: '',
      sha256: '',
      size: '0',
      mappedAtNs: atNs,
      goVersion: '',
      goModule: '',
      mapAddress,
      error: '',
      cached: false,
    });
  }

  private async emitCode(a: Active, pid: number, key: string, req: Parameters<CodeFingerprinter['fingerprint']>[0]): Promise<void> {
    if (a.seenCode.has(key)) return;
    a.seenCode.add(key);
    const fp = await this.fingerprinter.fingerprint(req);
    if (a.ending || !this.takeUserBudget(a)) return;
    this.emitEvidence(a, pid, fp);
  }

  private emitEvidence(a: Active, pid: number, code: CodeFingerprint): void {
    this.host.emit([
      {
        seq: '0',
        tsNs: this.host.nowNs(),
        node: this.host.node,
        execId: this.execIdFor(pid, a),
        pid,
        tid: 0,
        zoomId: a.zoom.id,
        body: { $case: 'code', value: code },
      },
    ]);
    a.zoom.fingerprints = String(a.fingerprints);
  }

  private enqueue(job: () => Promise<void>): void {
    this.codeQueue = this.codeQueue.then(job).catch((e: unknown) => this.log.warn('code fingerprint failed', { error: (e as Error).message }));
  }

  // --- targets ---------------------------------------------------------------------------------

  /** tgids: for the kernel's tgid map; members: what the zoom covers now (reported). */
  private resolveTarget(req: ZoomRequest): ResolvedTarget {
    const t = req.target!.target!;
    const notFound = (msg: string) => new ZoomOrderError(GrpcStatus.NOT_FOUND, msg);
    switch (t.$case) {
      case 'execId': {
        const execId = t.value;
        const node = execId.split(':')[0];
        if (node !== this.host.node) throw notFound(`exec id ${execId} is not of this node (${this.host.node})`);
        const tgids = this.processes.tgidsOf(execId);
        if (tgids.length === 0) throw notFound(`no running process has image ${execId} (it ended, or this sensor never saw it)`);
        for (const pid of tgids) this.checkNotOwn(pid);
        return { tgids, members: tgids, cgroup: undefined };
      }
      case 'tgid': {
        const pid = t.value.pid;
        checkProcess(pid);
        this.checkNotOwn(pid);
        return { tgids: [pid], members: [pid], cgroup: undefined };
      }
      case 'cgroup': {
        const root = this.host.cgroupRoot;
        if (!root) throw new ZoomOrderError(GrpcStatus.FAILED_PRECONDITION, 'no cgroup v2 hierarchy on this node');
        let rel = t.value.path;
        if (!rel && t.value.id !== '0') {
          rel = this.host.cgroupPath(t.value.id) ?? '';
          if (!rel) throw notFound(`no cgroup with id ${t.value.id}`);
        }
        if (!rel.startsWith('/') || rel.split('/').includes('..')) {
          throw new ZoomOrderError(GrpcStatus.INVALID_ARGUMENT, `cgroup path must be absolute below the cgroup root, got "${rel}"`);
        }
        let ino: bigint;
        try {
          const st = statSync(path.join(root, rel), { bigint: true });
          if (!st.isDirectory()) throw new Error('not a directory');
          ino = st.ino;
        } catch {
          throw notFound(`no cgroup ${rel}`);
        }
        const level = rel.split('/').filter(Boolean).length;
        if (level >= 16) throw new ZoomOrderError(GrpcStatus.INVALID_ARGUMENT, `cgroup ${rel} is nested ${level} deep: at most 15 levels`);
        if (level === 0) throw new ZoomOrderError(GrpcStatus.PERMISSION_DENIED, 'the root cgroup is the whole node: not a zoom target');
        // Matched in the kernel by cgroup (processes that join later included); the sensor's own
        // processes inside it are not excluded there, but are never reported as members.
        return { tgids: [], members: cgroupProcs(path.join(root, rel)).filter((p) => !this.isOwn(p)), cgroup: { id: ino, level } };
      }
    }
  }

  private checkOverlap(kernel: ZoomKernel, tgids: number[], cgroup: { id: bigint } | undefined): void {
    const targeted = kernel.targets();
    for (const pid of tgids) {
      const no = targeted.get(pid);
      const other = no !== undefined ? this.byNo.get(no) : undefined;
      if (other) throw new ZoomOrderError(GrpcStatus.ALREADY_EXISTS, `pid ${pid} is already targeted by zoom ${other.zoom.id} (cancel it or wait for it to end)`);
    }
    if (cgroup) {
      for (const a of this.active.values()) {
        if (a.cgroup?.id === cgroup.id) throw new ZoomOrderError(GrpcStatus.ALREADY_EXISTS, `that cgroup is already targeted by zoom ${a.zoom.id}`);
      }
    }
  }

  private checkNotOwn(pid: number): void {
    if (this.isOwn(pid)) throw new ZoomOrderError(GrpcStatus.PERMISSION_DENIED, `pid ${pid} is the sensor's own process (or one it marked own): not a zoom target`);
  }

  private isOwn(pid: number): boolean {
    return pid === process.pid || this.host.isOwn(pid) || this.processes.isOwn(pid);
  }

  private freeSlot(): number {
    const used = new Set([...this.active.values()].map((a) => a.slot));
    for (let s = 0; s < ZOOM_SLOTS; s++) if (!used.has(s)) return s;
    throw new ZoomOrderError(GrpcStatus.RESOURCE_EXHAUSTED, 'no free zoom slot');
  }

  private zoomOfTgid(pid: number): Active | undefined {
    for (const a of this.active.values()) if (!a.ending && a.tgids.has(pid)) return a;
    return undefined;
  }

  private activeById(id: string): Active | undefined {
    return this.active.get(id);
  }

  private follows(a: Active): boolean {
    const t = a.zoom.target?.target;
    return a.zoom.probes.includes(ProbeSet.PROBE_SET_CHILDREN) || t?.$case === 'cgroup';
  }

  /**
   * The image an event the sensor writes belongs to (every event names one): the process's, else
   * the zoom's exec-id target, else the sensor's own image (the sensor made the event — a cgroup
   * zoom with no process yet).
   */
  private execIdFor(pid: number, a: Active): string {
    const t = a.zoom.target?.target;
    return (
      (pid ? this.processes.execOf(pid) : undefined) ??
      (t?.$case === 'execId' ? t.value : undefined) ??
      this.processes.execOf(process.pid) ??
      `${this.host.node}:sensor:${process.pid}`
    );
  }

  private emitState(a: Active): void {
    const firstPid = a.zoom.targetTgids[0] ?? 0;
    const t = a.zoom.target?.target;
    this.host.emit([
      {
        seq: '0',
        tsNs: this.host.nowNs(),
        node: this.host.node,
        execId: t?.$case === 'execId' ? t.value : this.execIdFor(firstPid, a),
        pid: firstPid,
        tid: 0,
        zoomId: a.zoom.id,
        body: { $case: 'zoomState', value: { zoom: { ...a.zoom, targetTgids: [...a.zoom.targetTgids] } } },
      },
    ]);
  }
}

const probeBitCode = ZoomProbe.CODE;

function isPendingCode(e: Event): boolean {
  return e.body?.$case === 'code' && e.body.value.sha256 === '' && !!e.zoomId;
}

function describeTarget(req: ZoomRequest): string {
  const t = req.target?.target;
  if (!t) return '';
  if (t.$case === 'execId') return `exec ${t.value}`;
  if (t.$case === 'tgid') return `pid ${t.value.pid}${t.value.followChildren ? ' +children' : ''}`;
  return `cgroup ${t.value.path || t.value.id}`;
}

function safeIno(p: string): string {
  try {
    return statSync(p, { bigint: true }).ino.toString();
  } catch {
    return '';
  }
}

/** A pid that can be a zoom target: an existing user-space thread-group leader. */
function checkProcess(pid: number): void {
  if (!Number.isInteger(pid) || pid <= 0) throw new ZoomOrderError(GrpcStatus.INVALID_ARGUMENT, `pid must be a positive integer, got ${pid}`);
  let status: string;
  let stat: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    throw new ZoomOrderError(GrpcStatus.NOT_FOUND, `no process with pid ${pid} on this node`);
  }
  const tgid = Number(/^Tgid:\s*(\d+)$/m.exec(status)?.[1]);
  if (tgid !== pid) throw new ZoomOrderError(GrpcStatus.INVALID_ARGUMENT, `${pid} is a thread of process ${tgid}: target the process`);
  const flags = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[6]);
  if (flags & 0x00200000) throw new ZoomOrderError(GrpcStatus.INVALID_ARGUMENT, `pid ${pid} is a kernel thread: not a zoom target`);
}

/** The processes in a cgroup directory and below (bounded). */
function cgroupProcs(dir: string): number[] {
  const out: number[] = [];
  const walk = (d: string, depth: number) => {
    if (out.length >= MAX_CGROUP_PROCS || depth > 16) return;
    try {
      for (const line of readFileSync(path.join(d, 'cgroup.procs'), 'utf8').split('\n')) if (line) out.push(Number(line));
      for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(path.join(d, e.name), depth + 1);
    } catch {
      /* gone meanwhile */
    }
  };
  walk(dir, 0);
  return out;
}

export { ZoomOrderError } from './policy';
