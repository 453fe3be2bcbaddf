import type { CancelZoomRequest, Event, ListZoomsRequest, SensorStatus, Zoom, ZoomRequest } from '../gen/soc/sensor/v1/sensor';
import type { KernelSourceStatus } from './kernel/source';
import type { ZoomKernel } from './kernel/zoom';
import type { SensorBackend, ZoomCallContext } from './grpc/server';
import { ZoomManager } from './zoom/manager';
import { DEFAULT_ZOOM_POLICY, type ZoomPolicy } from './zoom/policy';
import { silentLogger, type Logger } from './log';
import { Journal, type JournalOptions, type SubscribeOptions } from './stream/journal';
import type { CgroupScope } from './scope';
import { SENSOR_VERSION } from './version';

const DROP_LOG_INTERVAL_MS = 5000;

/** What the live sensor needs from the kernel side: KernelEventSource (kernel/source.ts) has it. */
export interface KernelSource {
  start(): Promise<void>;
  stop(): Promise<void>;
  status(): KernelSourceStatus;
  takeDroppedDelta(): { kernel: bigint; user: bigint };
  /** Marks processes (and their descendants) as the sensor's own: their events carry own = true. */
  markOwn?(tgids: number[]): void;
  /** zoom-in control (absent: orders are refused) */
  zoom?(): ZoomKernel | undefined;
  /** delivers every record already written by the kernel */
  flush?(): Promise<void>;
  /** wall-clock ns on the events' clock */
  nowNs?(): string;
  /** why zoom-in is limited here */
  zoomNote?: string;
  /** cgroup v2 mount point and id -> path, for cgroup targets */
  cgroupRoot?: string;
  cgroupPath?(id: string): string | undefined;
}

/** What createSource gets besides the event callback. */
export interface SourceHooks {
  /** zoom number (kernel) -> Zoom.id, for the decoder */
  zoomIds: (zoomNo: number) => string | undefined;
}

/** Status line of zoom-in: where zooms live and what a restart does to them. */
export const ZOOM_LIFETIME_NOTE =
  'zooms live in this sensor process: they end with it, and a restarted sensor starts with none (its programs are owned by the process, nothing is pinned)';

export interface LiveSensorOptions {
  name: string;
  node: string;
  /** Builds the kernel source around the callback that receives its events. */
  createSource: (onEvents: (events: Event[]) => void, hooks: SourceHooks) => KernelSource;
  /** the sensor's bounds on zoom orders (default DEFAULT_ZOOM_POLICY) */
  zoomPolicy?: ZoomPolicy;
  /** pids that are the sensor's own besides this process (never zoom targets) */
  ownPids?: number[];
  journal?: Omit<JournalOptions, 'sensor'>;
  /** How often kernel/user drop counters are moved into the stream when no events flow. */
  dropPollMs?: number;
  /** Report only process images of one cgroup subtree (see scope.ts). */
  scope?: CgroupScope;
  logger?: Logger;
}

/**
 * The live sensor: kernel events → journal (seqs, batches, in-band drops) → subscribers.
 */
export class LiveSensor implements SensorBackend {
  readonly journal: Journal;
  readonly node: string;
  private readonly source: KernelSource;
  private readonly log: Logger;
  private readonly dropPollMs: number;
  private readonly scope: CgroupScope | undefined;
  private readonly startedAtMs = Date.now();
  private dropTimer: NodeJS.Timeout | null = null;
  /** Drops not yet logged: one log line per DROP_LOG_INTERVAL_MS at most, however bursty. */
  private unlogged = { kernel: 0n, user: 0n, sinceMs: 0 };
  private running = false;
  /** Shown in Status.recording while a recording is being written. */
  recordingNote = '';
  readonly zooms: ZoomManager;

  constructor(options: LiveSensorOptions) {
    this.journal = new Journal({ ...options.journal, sensor: options.name });
    this.node = options.node;
    this.log = options.logger ?? silentLogger;
    this.dropPollMs = options.dropPollMs ?? 250;
    this.scope = options.scope;
    const own = new Set([process.pid, ...(options.ownPids ?? [])]);
    const source = () => this.source;
    this.zooms = new ZoomManager(
      {
        node: this.node,
        epoch: this.journal.epoch,
        kernel: () => this.source.zoom?.(),
        flush: () => this.source.flush?.() ?? Promise.resolve(),
        nowNs: () => this.source.nowNs?.() ?? String(BigInt(Date.now()) * 1_000_000n),
        // Zoom events bypass the scope: they concern what an order named.
        emit: (events) => {
          if (!this.journal.isClosed) this.journal.append(events);
        },
        isOwn: (pid) => own.has(pid),
        get cgroupRoot() {
          return source().cgroupRoot;
        },
        cgroupPath: (id) => this.source.cgroupPath?.(id),
      },
      options.zoomPolicy ?? DEFAULT_ZOOM_POLICY,
      this.log,
    );
    this.source = options.createSource((events) => this.onEvents(events), { zoomIds: (n) => this.zooms.zoomIdOf(n) });
  }

  zoomIn(request: ZoomRequest, ctx: ZoomCallContext): Promise<Zoom> {
    return this.zooms.zoomIn(request, ctx);
  }

  cancelZoom(request: CancelZoomRequest, ctx: ZoomCallContext): Promise<Zoom> {
    return this.zooms.cancel(request, ctx);
  }

  listZooms(request: ListZoomsRequest): Zoom[] {
    return this.zooms.list(request.activeOnly);
  }

  /** Loads and attaches the eBPF programs (throws with the kernel side's reason when it cannot). */
  async start(): Promise<void> {
    this.running = true;
    await this.source.start();
    this.dropTimer = setInterval(() => this.moveDrops(), this.dropPollMs);
    const st = this.source.status();
    this.log.info('kernel source started', {
      epoch: this.journal.epoch,
      kernel: st.kernelRelease,
      btf: st.btfAvailable,
      attached: st.programs.filter((p) => p.attached).map((p) => p.name),
      notAttached: st.programs.filter((p) => !p.attached).map((p) => `${p.name}: ${p.error}`),
    });
  }

  /** Detaches from the kernel, then closes the journal (subscribers read what is left, then end). */
  async stop(): Promise<void> {
    if (!this.running) {
      this.journal.close();
      return;
    }
    this.running = false;
    if (this.dropTimer) clearInterval(this.dropTimer);
    try {
      await this.zooms.stop();
      await this.source.stop();
    } finally {
      this.moveDrops();
      const { kernel, user } = this.unlogged;
      if (kernel > 0n || user > 0n) this.log.warn('events dropped', { kernel, user, atSeq: this.journal.stats().lastSeq + 1 });
      this.journal.close();
    }
  }

  watch(options: SubscribeOptions) {
    return this.journal.subscribeEncoded(options);
  }

  /**
   * The cockpit on this node (the local process behind a Watch stream, found by the gRPC server)
   * is marked as our own: its activity must never raise indicators.
   */
  markOwn(tgids: number[]): void {
    if (!this.running || !this.source.markOwn || tgids.length === 0) return;
    this.source.markOwn(tgids);
    this.log.info('marked own', { tgids });
  }

  status(): SensorStatus {
    const kernel = this.source.status();
    const stats = this.journal.stats();
    const nowMs = Date.now();
    return {
      sensor: this.journal.sensor,
      node: this.node,
      epoch: this.journal.epoch,
      mode: 'live',
      kernelRelease: kernel.kernelRelease,
      btfAvailable: kernel.btfAvailable,
      programs: kernel.programs,
      eventsTotal: String(stats.eventsTotal),
      lastSeq: String(stats.lastSeq),
      oldestHeldSeq: String(stats.oldestHeldSeq),
      droppedKernel: kernel.droppedKernel,
      droppedUser: kernel.droppedUser,
      uptimeNs: String(BigInt(nowMs - this.startedAtMs) * 1_000_000n),
      startedAtNs: String(BigInt(this.startedAtMs) * 1_000_000n),
      version: SENSOR_VERSION,
      recording: this.recordingNote,
      zooms: this.zooms.list(),
      zoomProgramsAttached: this.zooms.attachedPrograms(),
      zoomNote: [this.source.zoomNote, ZOOM_LIFETIME_NOTE].filter(Boolean).join('; '),
    };
  }

  private onEvents(events: Event[]): void {
    if (this.journal.isClosed) return;
    // Drops first: they happened before these events got their seqs.
    this.moveDrops();
    // The zoom manager sees everything (its process index), and takes the records it completes.
    events = this.zooms.observe(events);
    this.journal.append(this.scope ? this.scope.filter(events) : events);
  }

  private moveDrops(): void {
    if (this.journal.isClosed) return;
    const delta = this.source.takeDroppedDelta();
    if (delta.kernel > 0n || delta.user > 0n) {
      this.journal.reportDrops(delta);
      if (this.unlogged.kernel === 0n && this.unlogged.user === 0n) this.unlogged.sinceMs = Date.now();
      this.unlogged.kernel += delta.kernel;
      this.unlogged.user += delta.user;
    }
    const { kernel, user, sinceMs } = this.unlogged;
    if ((kernel > 0n || user > 0n) && Date.now() - sinceMs >= DROP_LOG_INTERVAL_MS) {
      this.log.warn('events dropped', { kernel, user, sinceMs: Date.now() - sinceMs, atSeq: this.journal.stats().lastSeq + 1 });
      this.unlogged = { kernel: 0n, user: 0n, sinceMs: 0 };
    }
  }
}
