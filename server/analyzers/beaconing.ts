/**
 * Contact pattern and beaconing: how often a process reaches each destination, how regular it
 * is, and whether that regularity is a beacon.
 *
 * CONTACT. Events are grouped per destination (remote address, port, protocol). A contact is a
 * burst of activity towards the destination that the process starts:
 *   - a connect or a send starts a new contact when the destination has been silent (no
 *     connect, send or recv) for at least `burstGapMs` (default 50 ms);
 *   - anything closer than that continues the current contact: the pieces of one exchange, a
 *     pool of parallel connects, a request chain where each request follows the previous
 *     response (the recv in between bridges the gap — so an HTTP client paging through an API
 *     is one contact, not fifty);
 *   - a recv after silence does not start a contact (a server push is not the process reaching
 *     out), and events on accepted (inbound) connections are left out.
 * So a beacon on a fresh connection each time and a beacon on one long-lived connection both
 * give one contact per beat. 50 ms is half the shortest period the analysis aims at (100 ms):
 * two beats never merge, while the parts of one exchange inside a cluster (sub-millisecond to a
 * few ms apart) do.
 *
 * JITTER. MAD/median of the beat intervals (median absolute deviation divided by the median):
 * robust to a missed beat or a stray contact, unlike the coefficient of variation (also given,
 * over all intervals). For intervals spread uniformly over ±j it is about j/2; for normal
 * jitter about 0.67 sigma/mu; for Poisson (memoryless) traffic about 0.7.
 *
 * PERIODICITY TEST on the intervals between contact starts:
 *   1. a period candidate P is taken from the intervals' deciles, keeping the one that the most
 *      intervals sit within ±`tolerance` (30 %) of, then refined to the median of those
 *      "single" intervals;
 *   2. every interval is a single (|I - P| <= 0.3 P), a multiple (I close to 2P or 3P within
 *      0.3 P sqrt(k): one or two missed beats), or an outlier;
 *   3. periodic when: at least 3 singles and singles are at least half of the intervals; missed
 *      beats <= max(2, 10 % of the beats); outliers <= 10 % of the intervals; the singles and
 *      multiples cover >= 90 % of the time from first to last contact (a long idle gap between
 *      bursts is not part of a rhythm); jitter <= 0.15; and, when the observation window is
 *      known, the destination has not been silent for more than 3 periods at its end (a train
 *      that stopped was a burst).
 * Confidence (of a periodic verdict) = min(1, singles / 8) x (1 - jitter / (2 maxJitter)) x
 * singles / intervals: more beats, less jitter and fewer irregular intervals give more confidence. For a
 * not-periodic verdict it is min(1, intervals / 8): how much evidence the "no" rests on.
 *
 * Limits: an exchange that itself pauses for more than `burstGapMs` before the process sends
 * again (a slow handshake over a long WAN path) splits into two contacts; a single regular
 * train with no window given is indistinguishable from a beacon that is still running; a
 * beacon whose period is itself randomised over a wide range (more than ±30 %) is reported as
 * not periodic.
 */
import { formatEndpoint } from './ip';
import { coefficientOfVariation, mad, median, quantile, round, sum } from './stats';
import { diffMs, formatDuration, formatNs, parseNs, plural } from './time';
import type { NsTimestamp, SocketEvent, Transport } from './types';

export interface BeaconOptions {
  /** silence (ms) that ends a contact (default 50) */
  burstGapMs: number;
  /** contacts needed before periodicity is judged (default 5, i.e. 4 intervals) */
  minContacts: number;
  /** how far (fraction of the period) a beat interval may stray and still count (default 0.3) */
  tolerance: number;
  /** highest MAD/median of the beat intervals that is still periodic (default 0.15) */
  maxJitter: number;
  /** missed beats tolerated: max(this, 10 % of the beats) (default 2) */
  maxMissedBeats: number;
  /** irregular intervals tolerated, as a fraction of all intervals (default 0.1) */
  maxOutlierFraction: number;
  /** fraction of the contact span the regular intervals must cover (default 0.9) */
  minCoverage: number;
  /** the observation window; lets the test tell a beacon that stopped */
  window?: { startNs: NsTimestamp; endNs: NsTimestamp };
}

export const DEFAULT_BEACON_OPTIONS: BeaconOptions = {
  burstGapMs: 50,
  minContacts: 5,
  tolerance: 0.3,
  maxJitter: 0.15,
  maxMissedBeats: 2,
  maxOutlierFraction: 0.1,
  minCoverage: 0.9,
};

/** The largest multiple of the period an interval may be (two missed beats). */
const MAX_MULTIPLE = 3;
/** Beat intervals at which the periodic confidence stops growing. */
const FULL_EVIDENCE_INTERVALS = 8;

export interface Contact {
  startNs: NsTimestamp;
  endNs: NsTimestamp;
  /** what started it */
  openedBy: 'connect' | 'send';
  connects: number;
  failedConnects: number;
  bytesOut: number;
  bytesIn: number;
  eventIds: string[];
}

export type PeriodicityStatus = 'periodic' | 'not_periodic' | 'insufficient';

export interface PeriodicityVerdict {
  status: PeriodicityStatus;
  periodic: boolean;
  /** the period (median of the beat intervals), when one was found */
  periodMs: number | null;
  /** 0..1, see the module comment */
  confidence: number;
  reason: string;
  /** intervals that are one period (within tolerance) */
  singles: number;
  missedBeats: number;
  outliers: number;
}

export interface ContactPattern {
  destination: { address: string; port: number; protocol: Transport };
  /** "10.0.3.7:4444/tcp" */
  key: string;
  contacts: Contact[];
  firstNs: NsTimestamp;
  lastNs: NsTimestamp;
  /** median interval between contact starts (ms); null with fewer than 2 contacts */
  intervalMedianMs: number | null;
  /** MAD/median of the beat intervals when a period was found, else of all intervals */
  jitter: number | null;
  /** stdev/mean of all intervals */
  intervalCv: number | null;
  bytesOut: number;
  bytesIn: number;
  bytesOutPerContactMedian: number;
  bytesInPerContactMedian: number;
  verdict: PeriodicityVerdict;
}

export function destinationKey(address: string, port: number, protocol: Transport): string {
  return `${formatEndpoint(address, port)}/${protocol}`;
}

/** Events on connections the process accepted (inbound) are not its contacts. */
function outboundEvents(events: readonly SocketEvent[]): SocketEvent[] {
  const inbound = new Set(events.filter((e) => e.op === 'accept' && e.socketCookie).map((e) => e.socketCookie!));
  return events.filter((e) => e.op !== 'accept' && !(e.socketCookie && inbound.has(e.socketCookie)));
}

function failed(e: SocketEvent): boolean {
  // EINPROGRESS (-115) is how a non-blocking connect starts, not a failure.
  return e.op === 'connect' && e.result !== undefined && e.result < 0 && e.result !== -115;
}

/** A contact being built: bigint times until it is done. */
type WorkingContact = Omit<Contact, 'startNs' | 'endNs'> & { start: bigint; end: bigint };

/**
 * Contacts of one destination's events (see the module comment). Events may come in any order.
 */
export function contactsOf(events: readonly SocketEvent[], burstGapMs = DEFAULT_BEACON_OPTIONS.burstGapMs): Contact[] {
  const gapNs = BigInt(Math.round(burstGapMs * 1e6));
  const timed = events.map((e) => ({ e, t: parseNs(e.ts) })).sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : 0));
  const out: WorkingContact[] = [];
  let current: WorkingContact | null = null;
  let lastActivity: bigint | null = null;
  for (const { e, t } of timed) {
    const silent = lastActivity === null || t - lastActivity >= gapNs;
    lastActivity = t;
    if (silent && (e.op === 'connect' || e.op === 'send')) {
      current = { start: t, end: t, openedBy: e.op, connects: 0, failedConnects: 0, bytesOut: 0, bytesIn: 0, eventIds: [] };
      out.push(current);
    }
    if (!current) continue; // inbound-only activity before any contact: not a contact
    current.end = t;
    current.eventIds.push(e.id);
    if (e.op === 'connect') {
      current.connects++;
      if (failed(e)) current.failedConnects++;
    } else if (e.op === 'send') current.bytesOut += e.bytes;
    else if (e.op === 'recv') current.bytesIn += e.bytes;
  }
  return out.map(({ start, end, ...rest }) => ({ startNs: formatNs(start), endNs: formatNs(end), ...rest }));
}

interface Classified {
  period: number;
  singles: number[];
  multiples: Array<{ interval: number; k: number }>;
  outliers: number[];
}

function classify(intervals: readonly number[], period: number, tolerance: number): Classified {
  const c: Classified = { period, singles: [], multiples: [], outliers: [] };
  for (const interval of intervals) {
    const k = Math.round(interval / period);
    if (k === 1 && Math.abs(interval - period) <= tolerance * period) c.singles.push(interval);
    else if (k >= 2 && k <= MAX_MULTIPLE && Math.abs(interval - k * period) <= tolerance * period * Math.sqrt(k)) {
      c.multiples.push({ interval, k });
    } else c.outliers.push(interval);
  }
  return c;
}

/** The period candidate most intervals agree with (deciles of the intervals as candidates). */
function bestPeriod(intervals: readonly number[], tolerance: number): Classified {
  let best: Classified | null = null;
  for (let q = 0.1; q < 0.95; q += 0.1) {
    const candidate = quantile(intervals, q);
    if (!(candidate > 0)) continue;
    const c = classify(intervals, candidate, tolerance);
    const spread = c.singles.length > 0 ? mad(c.singles) : Infinity;
    const bestSpread = best && best.singles.length > 0 ? mad(best.singles) : Infinity;
    if (!best || c.singles.length > best.singles.length || (c.singles.length === best.singles.length && spread < bestSpread)) best = c;
  }
  if (!best || best.singles.length === 0) return best ?? { period: median(intervals), singles: [], multiples: [], outliers: [...intervals] };
  // Refine to the median of the intervals that agree, and sort the intervals again around it.
  return classify(intervals, median(best.singles), tolerance);
}

function pct(x: number): string {
  return `${round(x * 100, 1)} %`;
}

/**
 * The periodicity verdict for contact start times (ms, relative, ascending). `silenceAfterMs`
 * is the time from the last contact to the end of observation, when known.
 */
export function periodicity(startsMs: readonly number[], options: Partial<BeaconOptions> = {}, silenceAfterMs?: number): PeriodicityVerdict {
  const o = { ...DEFAULT_BEACON_OPTIONS, ...options };
  const n = startsMs.length;
  if (n < o.minContacts) {
    return {
      status: 'insufficient', periodic: false, periodMs: null, confidence: 0, singles: 0, missedBeats: 0, outliers: 0,
      reason: `insufficient: ${plural(n, 'contact')}; at least ${o.minContacts} are needed to judge periodicity`,
    };
  }
  const intervals = startsMs.slice(1).map((t, i) => t - startsMs[i]!);
  const c = bestPeriod(intervals, o.tolerance);
  const period = c.period;
  const missed = sum(c.multiples.map((m) => m.k - 1));
  const span = sum(intervals);
  const regularTime = sum(c.singles) + sum(c.multiples.map((m) => m.interval));
  const coverage = span > 0 ? regularTime / span : 0;
  const jitter = c.singles.length >= 2 ? mad(c.singles) / period : Number.NaN;
  const m = intervals.length;
  const allowedMissed = Math.max(o.maxMissedBeats, Math.floor(0.1 * (n + missed)));
  const allowedOutliers = Math.floor(o.maxOutlierFraction * m);
  const base = { periodMs: round(period, 3), singles: c.singles.length, missedBeats: missed, outliers: c.outliers.length };
  const no = (why: string): PeriodicityVerdict => ({
    ...base, status: 'not_periodic', periodic: false, periodMs: null, confidence: round(Math.min(1, m / FULL_EVIDENCE_INTERVALS), 2),
    reason: `not periodic: ${why}`,
  });
  const around = `±${pct(o.tolerance)} of ${formatDuration(period)}`;
  if (c.singles.length < 3 || c.singles.length * 2 < m) {
    const cv = coefficientOfVariation(intervals);
    return no(`only ${c.singles.length} of ${m} intervals are within ${around} (the most common spacing); intervals vary with a coefficient of variation of ${round(cv, 2)}`);
  }
  if (c.outliers.length > allowedOutliers) {
    return no(`${c.outliers.length} of ${m} intervals fit no multiple of ${formatDuration(period)} (at most ${allowedOutliers} may)`);
  }
  if (missed > allowedMissed) {
    return no(`${missed} beats of ${formatDuration(period)} would be missing (at most ${allowedMissed} may)`);
  }
  if (coverage < o.minCoverage) {
    return no(`regular intervals cover only ${pct(coverage)} of the ${formatDuration(span)} between first and last contact: bursts with idle gaps, not a rhythm`);
  }
  if (!(jitter <= o.maxJitter)) {
    return no(`intervals around ${formatDuration(period)} jitter by ${pct(jitter)} (MAD/median; at most ${pct(o.maxJitter)} is periodic)`);
  }
  if (silenceAfterMs !== undefined && silenceAfterMs > (MAX_MULTIPLE + o.tolerance) * period) {
    const silence = formatDuration(silenceAfterMs);
    return no(`regular every ${formatDuration(period)} for ${plural(n, 'contact')}, then silent for ${silence} until the end of observation: a burst that stopped, not a running beacon`);
  }
  const confidence = Math.min(1, c.singles.length / FULL_EVIDENCE_INTERVALS) * (1 - jitter / (2 * o.maxJitter)) * (c.singles.length / m);
  const details = [
    `${c.singles.length} of ${m} intervals within ${around}`,
    `jitter ${pct(jitter)} (MAD/median)`,
    ...(missed > 0 ? [plural(missed, 'missed beat')] : []),
    ...(c.outliers.length > 0 ? [plural(c.outliers.length, 'irregular interval')] : []),
  ];
  return {
    ...base, status: 'periodic', periodic: true, confidence: round(confidence, 2),
    reason: `periodic every ${formatDuration(period)}: ${details.join(', ')}; ${plural(n, 'contact')} over ${formatDuration(span)}`,
  };
}

/**
 * Contact patterns of a process's socket events, one per outbound destination, ordered by
 * first contact. Events towards destinations with no contact (only inbound) are left out.
 */
export function analyzeContacts(events: readonly SocketEvent[], options: Partial<BeaconOptions> = {}): ContactPattern[] {
  const o = { ...DEFAULT_BEACON_OPTIONS, ...options };
  const byDestination = new Map<string, SocketEvent[]>();
  for (const e of outboundEvents(events)) {
    const key = destinationKey(e.remote.address, e.remote.port, e.protocol);
    const list = byDestination.get(key) ?? [];
    list.push(e);
    byDestination.set(key, list);
  }
  const windowEnd = o.window ? parseNs(o.window.endNs) : null;
  const patterns: ContactPattern[] = [];
  for (const [key, list] of byDestination) {
    const contacts = contactsOf(list, o.burstGapMs);
    if (contacts.length === 0) continue;
    patterns.push(pattern(key, list[0]!, contacts, o, windowEnd));
  }
  return patterns.sort((a, b) => compareNs(a.firstNs, b.firstNs) || a.key.localeCompare(b.key));
}

function compareNs(a: NsTimestamp, b: NsTimestamp): number {
  const x = parseNs(a);
  const y = parseNs(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function pattern(key: string, sample: SocketEvent, contacts: Contact[], o: BeaconOptions, windowEnd: bigint | null): ContactPattern {
  const first = parseNs(contacts[0]!.startNs);
  const last = parseNs(contacts[contacts.length - 1]!.startNs);
  const starts = contacts.map((c) => diffMs(first, parseNs(c.startNs)));
  const intervals = starts.slice(1).map((t, i) => t - starts[i]!);
  const silenceAfter = windowEnd !== null && windowEnd > last ? diffMs(parseNs(contacts[contacts.length - 1]!.endNs), windowEnd) : undefined;
  const verdict = periodicity(starts, o, silenceAfter);
  let jitter: number | null = null;
  if (verdict.periodic && verdict.periodMs !== null) {
    const beats = intervals.filter((i) => Math.abs(i - verdict.periodMs!) <= o.tolerance * verdict.periodMs!);
    jitter = round(mad(beats) / verdict.periodMs, 4);
  } else if (intervals.length >= 2) {
    jitter = round(mad(intervals) / median(intervals), 4);
  }
  return {
    destination: { address: sample.remote.address, port: sample.remote.port, protocol: sample.protocol },
    key,
    contacts,
    firstNs: contacts[0]!.startNs,
    lastNs: formatNs(last),
    intervalMedianMs: intervals.length > 0 ? round(median(intervals), 3) : null,
    jitter,
    intervalCv: intervals.length >= 2 ? round(coefficientOfVariation(intervals), 4) : null,
    bytesOut: sum(contacts.map((c) => c.bytesOut)),
    bytesIn: sum(contacts.map((c) => c.bytesIn)),
    bytesOutPerContactMedian: median(contacts.map((c) => c.bytesOut)),
    bytesInPerContactMedian: median(contacts.map((c) => c.bytesIn)),
    verdict,
  };
}
