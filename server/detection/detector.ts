import { createHash, randomUUID } from 'node:crypto';
import { WORKLOAD_PROFILE, type EntryRecord } from '../../db/repositories/baselines';
import type { IndicatorKind, IndicatorRecord, Severity } from '../../db/repositories/indicators';
import type { StreamUnit } from '../../db/repositories/sensorStream';
import type { Event } from '../../sensor/gen/soc/sensor/v1/sensor';
import { silentLogger, type Logger } from '../../sensor/src/log';
import type { UnitObserver } from '../collector/link';
import { DetectorClock } from './clock';
import type { LearningWindow } from './config';
import { explanationSentence, nearestEntries, type Explanation } from './explain';
import { detailOf, pickDetectionInput, type DetectionInput, type ExecInput, type FactInput, type WorkloadInfo } from './inputs';
import { completeAt, dueCompletion, learnedAt } from './learning';
import { entryKey, entryToRecord, ProfileSet, type Entry, type Profile } from './profiles';
import { deviationSeverity, evaluateRules, maxSeverity, type RuleHit } from './rules';
import type { DetectorStore } from './store';

/**
 * The detector: every stored fact (and exec) against its workload's profile.
 *
 * It runs in the cockpit process, inside the collector: the collector hands it each unit right
 * after the unit is stored (UnitObserver), in stream order — no polling of storage. State is in
 * memory (every profile with its entries, recent indicators, what each exec id is), loaded from
 * storage at start and written back after each unit, so what is stored and what is in memory agree:
 *
 *   fact of image X (workload W, executable E) — own activity is skipped, never learned —
 *     (W, E) or (W, '*') has (kind, value)      → nothing
 *     a known-bad rule matches                   → indicator (also while learning; never learned)
 *     (W, E) is learning                         → learned (the window's quiet period restarts)
 *     (W, E) is completed                        → indicator (deviation)
 *   exec of binary B in W: the same, as (exec, B) against (W, '*').
 *
 * Windows complete by event time when a fact arrives after the window closed, and by a timer
 * (every `tickMs`, `graceMs` after the close so facts still in flight are learned). Repeats fold:
 * an indicator's id is a hash of (workload, executable, kind, value, profile version); another
 * image showing the same adds to its count and moves its last-seen time. A fact seen twice in one
 * image (a syscall fact and a ring-creation fact both say io_uring_setup) counts once.
 */

export interface DetectorOptions {
  /** Where state is loaded from and written to (store.ts: storageStore(getDb) in the cockpit). */
  store: DetectorStore;
  window: LearningWindow;
  /** The cockpit's own images (own.ts); the sensor's own marks are honoured in any case. */
  isOwn?: (execId: string) => boolean;
  wallNs?: () => bigint;
  log?: Logger;
  /** How often learning windows are checked (default 1000 ms). */
  tickMs?: number;
  /** A window is completed by the timer this long after it closed (default 2000 ms). */
  graceMs?: number;
  /** How often profiles changed by another process are picked up (default 10 000 ms; 0: never). */
  syncMs?: number;
  /** Indicators last seen this long ago or later are loaded at start, to fold into (default 30 days). */
  foldWindowNs?: bigint;
  /**
   * Told about indicators raised (not folds) right after they were stored, with the time the write
   * finished: the zoom policy's hook (server/zoom/service.ts). Must not block: it runs in the
   * detector's queue.
   */
  onRaised?: (records: IndicatorRecord[], storedAtNs: bigint) => void;
}

/** What the detector knows about one image. */
interface ExecState {
  node: string;
  binary: string;
  workload: WorkloadInfo | null;
  parentExecId: string;
  own: boolean;
  seeded: boolean;
  /** the image accepted network connections (an inbound endpoint fact) */
  serves: boolean;
  /** (kind, value) already handled for this image: one image reporting the same twice counts once */
  seen?: Set<string>;
}

interface IndicatorState {
  record: IndicatorRecord;
}

export interface DetectorStats {
  units: number;
  facts: number;
  execs: number;
  ownSkipped: number;
  withoutWorkload: number;
  unknownExec: number;
  learned: number;
  indicatorsRaised: number;
  indicatorsFolded: number;
  completed: number;
  writeFailures: number;
  lastError: string | null;
}

const MAX_EXEC_IDS = 64;
/** Learned entries and profile changes are written at most this often (indicators at once). */
const LEARNED_FLUSH_MS = 500;
/** Images remembered (what they run, their workload, what they reported): oldest first out. */
const MAX_EXECS = 100_000;
const NS_PER_MS = 1_000_000n;

/** The deterministic id of an indicator: the same (workload, executable, kind, value, version) folds. */
export function indicatorId(workload: string, executable: string, kind: IndicatorKind, value: string, version: number): string {
  return createHash('sha256').update([workload, executable, kind, value, String(version)].join('\u0000')).digest('hex').slice(0, 24);
}

/** A Map that forgets its oldest keys beyond `max`. */
class Bounded<K, V> extends Map<K, V> {
  constructor(private readonly max: number) {
    super();
  }
  override set(key: K, value: V): this {
    if (super.has(key)) super.delete(key);
    super.set(key, value);
    if (this.size > this.max) super.delete(this.keys().next().value!);
    return this;
  }
}

/** A unit to process, or a call (an analyst's change, a timer): `settle` runs once its writes are done. */
type Task = { kind: 'unit'; items: DetectionInput[] } | { kind: 'call'; run: () => Promise<void>; settle?: () => void };

export class Detector implements UnitObserver<DetectionInput> {
  readonly profiles = new ProfileSet();
  readonly clock: DetectorClock;
  readonly stats: DetectorStats = {
    units: 0,
    facts: 0,
    execs: 0,
    ownSkipped: 0,
    withoutWorkload: 0,
    unknownExec: 0,
    learned: 0,
    indicatorsRaised: 0,
    indicatorsFolded: 0,
    completed: 0,
    writeFailures: 0,
    lastError: null,
  };
  private readonly opts: Required<Omit<DetectorOptions, 'isOwn' | 'wallNs' | 'log' | 'onRaised'>> & Pick<DetectorOptions, 'isOwn' | 'onRaised'>;
  private readonly log: Logger;
  private readonly wallNs: () => bigint;
  private readonly execs = new Bounded<string, ExecState | null>(MAX_EXECS);
  private readonly indicators = new Map<string, IndicatorState>();
  private readonly queue: Task[] = [];
  private draining: Promise<void> | null = null;
  private loaded: Promise<void> | null = null;
  private timers: NodeJS.Timeout[] = [];
  private stopped = false;
  private lastRowVersion = 0n;
  private lastFlushMs = 0;
  private syncedRowVersion = '0';
  /** the row version each profile was last written or read with (to tell others' changes from ours) */
  private readonly knownRowVersion = new Map<string, string>();
  // What the next flush writes.
  private readonly dirtyProfiles = new Set<Profile>();
  private pendingEntries: EntryRecord[] = [];
  private readonly dirtyIndicators = new Set<string>();
  /** Indicators raised (not folded) and not yet reported as stored (onRaised). */
  private readonly newlyRaised = new Set<string>();

  constructor(options: DetectorOptions) {
    this.opts = {
      store: options.store,
      window: options.window,
      isOwn: options.isOwn,
      tickMs: options.tickMs ?? 1000,
      graceMs: options.graceMs ?? 2000,
      syncMs: options.syncMs ?? 10_000,
      foldWindowNs: options.foldWindowNs ?? 30n * 86_400_000_000_000n,
      onRaised: options.onRaised,
    };
    this.log = options.log ?? silentLogger;
    this.wallNs = options.wallNs ?? (() => BigInt(Date.now()) * NS_PER_MS);
    this.clock = new DetectorClock(this.wallNs);
  }

  get window(): LearningWindow {
    return this.opts.window;
  }

  /** Loads profiles, entries and recent indicators, then checks windows on a timer. */
  start(): Promise<void> {
    this.loaded ??= (async () => {
      await this.loadAll();
      if (this.stopped) return;
      this.timers.push(setInterval(() => this.enqueue({ kind: 'call', run: async () => this.tick() }), this.opts.tickMs));
      if (this.opts.syncMs > 0) this.timers.push(setInterval(() => this.enqueue({ kind: 'call', run: () => this.sync() }), this.opts.syncMs));
      for (const t of this.timers) t.unref();
      this.log.info('detector started', {
        profiles: this.profiles.all().length,
        indicators: this.indicators.size,
        window: { minNs: this.opts.window.minNs, quietNs: this.opts.window.quietNs, maxNs: this.opts.window.maxNs },
      });
    })();
    this.loaded.catch((err: unknown) => {
      this.stats.lastError = `load: ${(err as Error).message}`;
      this.loaded = null;
    });
    return this.loaded;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await this.idle().catch(() => undefined);
  }

  // --- UnitObserver ---------------------------------------------------------------------------

  pick(event: Event): DetectionInput | null {
    return pickDetectionInput(event);
  }

  stored(_unit: StreamUnit, picked: DetectionInput[]): void {
    if (picked.length > 0) this.enqueue({ kind: 'unit', items: picked });
  }

  /** Runs `fn` in the detector's order (after what is queued), e.g. an analyst's change. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let outcome: { ok: true; value: T } | { ok: false; error: unknown } | null = null;
      this.enqueue({
        kind: 'call',
        run: async () => {
          try {
            outcome = { ok: true, value: await fn() };
          } catch (error) {
            outcome = { ok: false, error };
          }
        },
        // After the write that follows it: what the call changed is stored when it resolves.
        settle: () => {
          const o = outcome as typeof outcome;
          if (o?.ok) resolve(o.value);
          else reject(o ? o.error : new Error('detector stopped'));
        },
      });
    });
  }

  /** Resolves once everything queued so far is processed and written. */
  idle(): Promise<void> {
    return this.run(async () => undefined);
  }

  /** Processes inputs directly (tests; the collector goes through stored()). */
  process(items: DetectionInput[]): Promise<void> {
    return this.run(async () => this.processUnit(items));
  }

  /** Completes due learning windows now (tests; the timer does it every tickMs). */
  checkWindows(): Promise<void> {
    return this.run(async () => this.tick());
  }

  // --- the queue ------------------------------------------------------------------------------

  private enqueue(task: Task): void {
    this.queue.push(task);
    this.draining ??= this.drain().finally(() => {
      this.draining = null;
      if (this.queue.length > 0) this.enqueue({ kind: 'call', run: async () => undefined });
    });
  }

  private async drain(): Promise<void> {
    try {
      await (this.loaded ?? this.start());
    } catch (err) {
      // Storage is not there yet: try again in a second (what is queued waits).
      this.log.warn('detector cannot load its state', { error: (err as Error).message });
      if (this.stopped) return;
      await new Promise((r) => setTimeout(r, 1000));
      return;
    }
    const settle: Array<() => void> = [];
    while (this.queue.length > 0) {
      const task = this.queue.shift()!;
      try {
        if (task.kind === 'unit') await this.processUnit(task.items);
        else await task.run();
      } catch (err) {
        this.stats.lastError = (err as Error).message;
        this.log.warn('detector task failed', { error: (err as Error).message });
      }
      if (task.kind === 'call' && task.settle) settle.push(task.settle);
      // Written as soon as nothing else is waiting when an indicator (or a caller) waits for it:
      // the fact → indicator delay stays short, and a burst of units shares one write. What only
      // learning changed is written at most every LEARNED_FLUSH_MS (the timer comes by every tick).
      if (this.queue.length === 0 && (settle.length > 0 || this.dirtyIndicators.size > 0 || Date.now() - this.lastFlushMs >= LEARNED_FLUSH_MS)) {
        await this.flush().catch(() => undefined);
        for (const done of settle.splice(0)) done();
      }
    }
  }

  // --- processing -----------------------------------------------------------------------------

  private async processUnit(items: DetectionInput[]): Promise<void> {
    this.stats.units++;
    await this.resolveUnknownExecs(items);
    let newest = '';
    for (const item of items) {
      if (item.tsNs.length > newest.length || (item.tsNs.length === newest.length && item.tsNs > newest)) newest = item.tsNs;
      if (item.type === 'exec') this.onExec(item);
      else this.onFact(item);
    }
    if (newest) this.clock.observe(BigInt(newest));
  }

  /** Images a fact or exec refers to that the detector never saw exec: looked up in storage once. */
  private async resolveUnknownExecs(items: DetectionInput[]): Promise<void> {
    const introduced = new Set<string>();
    const wanted = new Set<string>();
    for (const item of items) {
      if (item.type === 'exec') {
        introduced.add(item.execId);
        if (item.parentExecId && !introduced.has(item.parentExecId) && !this.execs.has(item.parentExecId)) wanted.add(item.parentExecId);
      } else if (!introduced.has(item.execId) && !this.execs.has(item.execId)) {
        wanted.add(item.execId);
      }
    }
    if (wanted.size === 0) return;
    const found = await this.opts.store.lookupExecs([...wanted]);
    for (const id of wanted) {
      const p = found.get(id);
      this.execs.set(id, p ? { ...p, own: this.opts.isOwn?.(id) ?? false, serves: false } : null);
    }
  }

  private onExec(x: ExecInput): void {
    this.stats.execs++;
    const own = x.own || (this.opts.isOwn?.(x.execId) ?? false);
    const state: ExecState = { node: x.node, binary: x.binary, workload: x.workload, parentExecId: x.parentExecId, own, seeded: x.seeded, serves: false };
    this.execs.set(x.execId, state);
    if (own) {
      this.stats.ownSkipped++;
      return;
    }
    if (!x.workload) {
      this.stats.withoutWorkload++;
      return;
    }
    const parent = x.parentExecId ? this.execs.get(x.parentExecId) : null;
    this.evaluate(state, {
      workload: x.workload,
      executable: WORKLOAD_PROFILE,
      subject: x.binary,
      execId: x.execId,
      node: x.node,
      tsNs: x.tsNs,
      kind: 'exec',
      value: x.binary,
      input: x,
      ioUring: false,
      pathClass: '',
      parent: parent ? { executable: parent.binary, servesNetwork: parent.serves } : null,
      seeded: x.seeded,
    });
  }

  private onFact(f: FactInput): void {
    this.stats.facts++;
    const exec = this.execs.get(f.execId) ?? null;
    if (f.own || exec?.own || this.opts.isOwn?.(f.execId)) {
      this.stats.ownSkipped++;
      return;
    }
    if (!exec) {
      this.stats.unknownExec++;
      return;
    }
    if (f.inbound) exec.serves = true;
    const workload = exec.workload ?? (f.workload ? { key: f.workload, kind: f.workload.split('/')[0]!, namespace: '', name: '', container: '' } : null);
    if (!workload) {
      this.stats.withoutWorkload++;
      return;
    }
    this.evaluate(exec, {
      workload,
      executable: exec.binary,
      subject: exec.binary,
      execId: f.execId,
      node: f.node,
      tsNs: f.tsNs,
      kind: f.kind,
      value: f.value,
      input: f,
      ioUring: f.ioUring,
      pathClass: f.pathClass,
      parent: null,
      seeded: exec.seeded,
    });
  }

  private evaluate(image: ExecState, c: {
    workload: WorkloadInfo;
    executable: string;
    subject: string;
    execId: string;
    node: string;
    tsNs: string;
    kind: IndicatorKind;
    value: string;
    /** where the detail of an entry or indicator comes from (detailOf), when one is made */
    input: DetectionInput;
    ioUring: boolean;
    pathClass: string;
    parent: { executable: string; servesNetwork: boolean } | null;
    seeded: boolean;
  }): void {
    // One image reporting the same thing twice (a syscall fact and a ring-creation fact) counts once.
    const seenKey = entryKey(c.kind, c.value);
    if (image.seen?.has(seenKey)) return;
    (image.seen ??= new Set()).add(seenKey);

    // The hot path (a fact the profile already has) allocates nothing and parses no time.
    const key = c.workload.key;
    let profile = this.profiles.get(key, c.executable);
    if (!profile || profile.state.status === 'learning') {
      const ts = BigInt(c.tsNs);
      if (!profile) {
        const w = c.workload;
        profile = this.profiles.ensure(key, c.executable, { kind: w.kind, namespace: w.namespace, name: w.name, container: w.container }, ts, this.opts.window).profile;
        this.dirtyProfiles.add(profile);
      }
      // A window that closed before this fact happened is completed first (event time).
      const due = dueCompletion(profile.state, ts);
      if (due) this.complete(profile, due.atNs, due.by);
    }
    if (this.profiles.allows(key, c.executable, c.kind, c.value, seenKey)) return;

    const rules = evaluateRules({
      workload: key,
      executable: c.subject,
      kind: c.kind,
      value: c.value,
      ioUring: c.ioUring,
      pathClass: c.pathClass,
      workloadUsedIoUring: this.profiles.workloadUsesIoUring(key),
      parent: c.parent,
      seeded: c.seeded,
    });
    if (profile.state.status === 'learning' && rules.length === 0) {
      this.learn(profile, c.kind, c.value, detailOf(c.input), c.tsNs, c.node, c.execId);
      return;
    }
    this.raise(profile, c, rules);
  }

  private learn(profile: Profile, kind: IndicatorKind, value: string, detail: Record<string, unknown>, tsNs: string, node: string, execId: string): void {
    const entry: Entry = { kind, value, detail, source: 'learned', tsNs, profileVersion: profile.state.version, position: 0, node, execId, actor: '', reason: '', indicatorId: '' };
    if (!profile.add(entry)) return;
    this.stats.learned++;
    profile.state = learnedAt(profile.state, BigInt(tsNs));
    this.pendingEntries.push(entryToRecord(profile, entry));
    this.dirtyProfiles.add(profile);
  }

  private complete(profile: Profile, atNs: bigint, by: 'window' | 'max'): void {
    profile.state = completeAt(profile.state, atNs, by);
    this.stats.completed++;
    this.dirtyProfiles.add(profile);
    this.log.info('profile completed', { workload: profile.workload, executable: profile.executable, by, entries: profile.size(), version: profile.state.version });
  }

  private raise(
    profile: Profile,
    c: { workload: WorkloadInfo; executable: string; execId: string; node: string; tsNs: string; kind: IndicatorKind; value: string; input: DetectionInput; ioUring: boolean },
    rules: RuleHit[],
  ): void {
    const deviation = profile.state.status === 'completed';
    const version = profile.state.version;
    const id = indicatorId(c.workload.key, c.executable, c.kind, c.value, version);
    const existing = this.indicators.get(id);
    if (existing) {
      const r = existing.record;
      if (!r.execIds.includes(c.execId)) {
        r.count = (BigInt(r.count) + 1n).toString();
        if (r.execIds.length < MAX_EXEC_IDS) r.execIds = [...r.execIds, c.execId];
      }
      if (BigInt(c.tsNs) > BigInt(r.lastSeenNs)) {
        r.lastSeenNs = c.tsNs;
        r.lastExecId = c.execId;
      }
      this.stats.indicatorsFolded++;
      this.dirtyIndicators.add(id);
      return;
    }
    const explanation = this.explain(profile, { ...c, detail: detailOf(c.input) }, deviation, rules);
    const severity: Severity = maxSeverity(...(deviation ? [deviationSeverity(c.kind, c.value, c.ioUring)] : []), ...rules.map((r) => r.severity));
    const record: IndicatorRecord = {
      id,
      tsNs: c.tsNs,
      lastSeenNs: c.tsNs,
      count: '1',
      node: c.node,
      execId: c.execId,
      lastExecId: c.execId,
      execIds: [c.execId],
      workload: c.workload.key,
      workloadKind: c.workload.kind,
      executable: c.executable,
      kind: c.kind,
      value: c.value,
      severity,
      deviation,
      rules: rules.map((r) => r.id),
      profileVersion: version,
      profileStatus: profile.state.status,
      sentence: explanationSentence(explanation),
      explanation: JSON.stringify(explanation),
      state: 'open',
      updatedAtNs: '0',
      rowVersion: '0',
    };
    this.indicators.set(id, { record });
    this.dirtyIndicators.add(id);
    if (this.opts.onRaised) this.newlyRaised.add(id);
    this.stats.indicatorsRaised++;
    this.log.info('indicator', { id, workload: record.workload, executable: record.executable, kind: record.kind, value: record.value, severity, rules: record.rules });
  }

  private explain(
    profile: Profile,
    c: { workload: WorkloadInfo; executable: string; execId: string; node: string; tsNs: string; kind: IndicatorKind; value: string; detail: Record<string, unknown> },
    deviation: boolean,
    rules: RuleHit[],
  ): Explanation {
    const star = c.executable === WORKLOAD_PROFILE ? undefined : this.profiles.get(c.workload.key, WORKLOAD_PROFILE);
    const sources = [profile, ...(star ? [star] : [])];
    const candidates = sources.flatMap((p) => p.entries().map((entry) => ({ executable: p.executable, entry })));
    const ofKind = new Set(candidates.filter((x) => x.entry.kind === c.kind).map((x) => x.entry.value));
    const s = profile.state;
    return {
      fact: { kind: c.kind, value: c.value, node: c.node, execId: c.execId, tsNs: c.tsNs, detail: c.detail },
      profile: {
        workload: c.workload.key,
        executable: c.executable,
        version: s.version,
        status: s.status,
        startedAtNs: s.startedAtNs.toString(),
        lastNewAtNs: s.lastNewAtNs.toString(),
        completedAtNs: s.completedAtNs.toString(),
        completedBy: s.completedBy,
        window: { minNs: s.window.minNs.toString(), quietNs: s.window.quietNs.toString(), maxNs: s.window.maxNs.toString() },
        entries: new Set(candidates.map((x) => `${x.entry.kind}\u0000${x.entry.value}`)).size,
        entriesOfKind: ofKind.size,
      },
      deviation,
      rules,
      nearest: nearestEntries(c.kind, c.value, c.detail, candidates),
    };
  }

  /** Completes the learning profiles whose window closed (by the detector clock, after the grace). */
  private tick(): void {
    const now = this.clock.now() - BigInt(this.opts.graceMs) * NS_PER_MS;
    for (const profile of this.profiles.all()) {
      const due = dueCompletion(profile.state, now);
      if (due) this.complete(profile, due.atNs, due.by);
    }
  }

  // --- storage --------------------------------------------------------------------------------

  private nextRowVersion(): bigint {
    const now = this.wallNs();
    this.lastRowVersion = now > this.lastRowVersion ? now : this.lastRowVersion + 1n;
    return this.lastRowVersion;
  }

  /** Writes what changed: learned entries, then profiles, then indicators. Kept for a retry on failure. */
  async flush(): Promise<void> {
    if (this.pendingEntries.length === 0 && this.dirtyProfiles.size === 0 && this.dirtyIndicators.size === 0) return;
    this.lastFlushMs = Date.now();
    const entries = this.pendingEntries;
    const profiles = [...this.dirtyProfiles];
    const indicatorIds = [...this.dirtyIndicators];
    this.pendingEntries = [];
    this.dirtyProfiles.clear();
    this.dirtyIndicators.clear();
    try {
      const at = this.wallNs();
      const profileRecords = profiles.map((p) => p.toRecord(at, this.nextRowVersion()));
      const indicatorRecords = indicatorIds.map((id) => {
        const r = this.indicators.get(id)!.record;
        r.updatedAtNs = at.toString();
        r.rowVersion = this.nextRowVersion().toString();
        return { ...r, execIds: [...r.execIds] };
      });
      // Entries first (a profile's count never runs ahead of them), then profiles, then indicators.
      await this.opts.store.write({ entries, entriesToken: `detector:${randomUUID()}`, profiles: profileRecords, indicators: indicatorRecords });
      for (const r of profileRecords) this.knownRowVersion.set(`${r.workload}\u0000${r.executable}`, r.rowVersion);
      this.reportRaised(indicatorRecords);
    } catch (err) {
      // Nothing is lost: what was not written is written with the next flush.
      this.stats.writeFailures++;
      this.stats.lastError = `write: ${(err as Error).message}`;
      this.log.warn('detector write failed', { error: (err as Error).message });
      this.pendingEntries = [...entries, ...this.pendingEntries];
      for (const p of profiles) this.dirtyProfiles.add(p);
      for (const id of indicatorIds) this.dirtyIndicators.add(id);
      throw err;
    }
  }

  /** Hands the indicators raised since the last report, now stored, to onRaised. */
  private reportRaised(written: readonly IndicatorRecord[]): void {
    if (!this.opts.onRaised || this.newlyRaised.size === 0) return;
    const raised = written.filter((r) => this.newlyRaised.delete(r.id));
    if (raised.length === 0) return;
    try {
      this.opts.onRaised(raised, this.wallNs());
    } catch (err) {
      this.log.warn('indicator hook failed', { error: (err as Error).message });
    }
  }

  private async loadAll(): Promise<void> {
    const since = this.wallNs() - this.opts.foldWindowNs;
    const { profiles, entries, importedWorkloads, indicators } = await this.opts.store.load((since > 0n ? since : 0n).toString());
    this.profiles.load(profiles, entries, importedWorkloads);
    for (const p of profiles) {
      this.knownRowVersion.set(`${p.workload}\u0000${p.executable}`, p.rowVersion);
      this.syncedRowVersion = maxDecimal(this.syncedRowVersion, p.rowVersion);
    }
    for (const record of indicators) {
      this.indicators.set(record.id, { record });
      this.lastRowVersion = maxBig(this.lastRowVersion, BigInt(record.rowVersion));
    }
    for (const p of profiles) this.lastRowVersion = maxBig(this.lastRowVersion, BigInt(p.rowVersion));
  }

  /** Reloads one workload from storage (after a change made outside the detector's queue). */
  async reloadWorkload(workload: string): Promise<void> {
    const { profiles, entries, imported } = await this.opts.store.loadWorkload(workload);
    for (const p of this.profiles.profilesOf(workload)) this.dirtyProfiles.delete(p);
    this.pendingEntries = this.pendingEntries.filter((e) => e.workload !== workload);
    this.profiles.drop(workload);
    this.profiles.load(profiles, entries, imported ? [workload] : []);
    for (const p of profiles) this.knownRowVersion.set(`${p.workload}\u0000${p.executable}`, p.rowVersion);
  }

  /** Picks up profiles another process changed (the API of a cockpit whose collector runs elsewhere). */
  private async sync(): Promise<void> {
    const changed = await this.opts.store.changedProfiles(this.syncedRowVersion);
    const workloads = new Set<string>();
    for (const p of changed) {
      this.syncedRowVersion = maxDecimal(this.syncedRowVersion, p.rowVersion);
      if (this.knownRowVersion.get(`${p.workload}\u0000${p.executable}`) !== p.rowVersion) workloads.add(p.workload);
    }
    if (workloads.size > 0) await this.flush();
    for (const w of workloads) await this.reloadWorkload(w);
  }

  /** Marks an indicator allowed (an analyst allowed its entry). */
  markAllowed(id: string): IndicatorRecord | null {
    const state = this.indicators.get(id);
    if (!state) return null;
    state.record.state = 'allowed';
    this.dirtyIndicators.add(id);
    return state.record;
  }

  /** Profiles changed by the API inside run(): written with the next flush. */
  touch(profiles: readonly Profile[], entries: readonly EntryRecord[]): void {
    for (const p of profiles) this.dirtyProfiles.add(p);
    this.pendingEntries.push(...entries);
  }

  /** Writes now (inside run()). */
  async flushNow(): Promise<void> {
    await this.flush();
  }
}

function maxBig(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

function maxDecimal(a: string, b: string): string {
  return a.length !== b.length ? (a.length > b.length ? a : b) : a > b ? a : b;
}
