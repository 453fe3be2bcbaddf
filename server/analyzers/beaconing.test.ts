import { describe, expect, it } from 'vitest';
import { analyzeContacts, contactsOf, periodicity } from './beaconing';
import { at, beacon, jittered, rng, socket } from './testkit';
import type { SocketEvent } from './types';

const C2 = { address: '10.0.3.7', port: 4444 };
const API = { address: '10.96.40.2', port: 443 };

function starts(intervals: readonly number[], from = 0): number[] {
  const out = [from];
  for (const i of intervals) out.push(out[out.length - 1]! + i);
  return out;
}

function only(events: SocketEvent[], options = {}) {
  const patterns = analyzeContacts(events, options);
  expect(patterns).toHaveLength(1);
  return patterns[0]!;
}

describe('contacts', () => {
  it('counts a connect and its send as one contact, with bytes and event ids', () => {
    const events = beacon([0, 1000, 2000], C2, 60);
    const contacts = contactsOf(events);
    expect(contacts).toHaveLength(3);
    expect(contacts[0]).toEqual({
      startNs: at(0), endNs: at(0.4), openedBy: 'connect', connects: 1, failedConnects: 0, bytesOut: 60, bytesIn: 0,
      eventIds: [events[0]!.id, events[1]!.id],
    });
  });

  it('makes a send after silence on a long-lived connection a contact of its own', () => {
    const events = [
      socket({ ms: 0, op: 'connect', remote: C2, socketCookie: '77' }),
      ...[10, 2010, 4010, 6010].flatMap((ms) => [
        socket({ ms, op: 'send', remote: C2, bytes: 40, socketCookie: '77' }),
        socket({ ms: ms + 3, op: 'recv', remote: C2, bytes: 8, socketCookie: '77' }),
      ]),
    ];
    const contacts = contactsOf(events);
    expect(contacts.map((c) => [c.openedBy, c.bytesOut, c.bytesIn])).toEqual([['connect', 40, 8], ['send', 40, 8], ['send', 40, 8], ['send', 40, 8]]);
  });

  it('bridges a request chain through its responses: fifty requests, one contact', () => {
    const events: SocketEvent[] = [];
    for (let i = 0; i < 50; i++) {
      const t = i * 120;
      events.push(socket({ ms: t, op: 'send', remote: API, bytes: 300 }), socket({ ms: t + 100, op: 'recv', remote: API, bytes: 4000 }));
    }
    const contacts = contactsOf(events);
    expect(contacts).toHaveLength(1);
    expect(contacts[0]!.bytesOut).toBe(15000);
    expect(contacts[0]!.bytesIn).toBe(200000);
  });

  it('does not count server pushes, inbound connections or their replies as contacts', () => {
    const events = [
      socket({ ms: 0, op: 'recv', remote: C2, bytes: 10 }),
      socket({ ms: 5000, op: 'recv', remote: C2, bytes: 10 }),
      socket({ ms: 0, op: 'accept', remote: { address: '10.0.9.9', port: 51000 }, socketCookie: '9' }),
      socket({ ms: 1, op: 'send', remote: { address: '10.0.9.9', port: 51000 }, socketCookie: '9', bytes: 100 }),
    ];
    expect(analyzeContacts(events)).toEqual([]);
  });

  it('counts failed connects (a beacon to a listener that is down still beacons)', () => {
    const events = [0, 1000].map((ms) => socket({ ms, op: 'connect', remote: C2, result: -111 }));
    events.push(socket({ ms: 2000, op: 'connect', remote: C2, result: -115 }));
    expect(contactsOf(events).map((c) => c.failedConnects)).toEqual([1, 1, 0]);
  });
});

describe('periodicity verdict', () => {
  it('computes exact values from hand-made intervals', () => {
    const p = only(beacon(starts([1000, 1100, 950, 1050, 900, 1000, 1150, 980, 1020]), C2, 60));
    expect(p.key).toBe('10.0.3.7:4444/tcp');
    expect(p.intervalMedianMs).toBe(1000);
    expect(p.jitter).toBe(0.05);
    expect(p.intervalCv).toBe(0.0702);
    expect(p.bytesOut).toBe(600);
    expect(p.bytesOutPerContactMedian).toBe(60);
    expect(p.firstNs).toBe(at(0));
    expect(p.lastNs).toBe(at(9150));
    expect(p.verdict).toEqual({
      status: 'periodic', periodic: true, periodMs: 1000, confidence: 0.83, singles: 9, missedBeats: 0, outliers: 0,
      reason: 'periodic every 1 s: 9 of 9 intervals within ±30 % of 1 s, jitter 5 % (MAD/median); 10 contacts over 9.15 s',
    });
  });

  it.each([
    [1000, 0], [1000, 0.05], [1000, 0.15],
    [5000, 0], [5000, 0.05], [5000, 0.15],
    [60000, 0], [60000, 0.05], [60000, 0.15],
  ])('finds a period of %i ms with ±%f jitter', (period, jitter) => {
    const p = only(beacon(jittered(30, period, jitter, period + jitter * 1000)));
    expect(p.verdict.periodic).toBe(true);
    expect(p.contacts).toHaveLength(30);
    expect(Math.abs(p.verdict.periodMs! - period) / period).toBeLessThan(jitter === 0 ? 1e-9 : 0.05);
    expect(p.jitter!).toBeLessThanOrEqual(jitter / 2 + 0.02);
    if (jitter === 0) expect(p.verdict.confidence).toBe(1);
    else expect(p.verdict.confidence).toBeGreaterThan(0.6);
  });

  it('reports the exact period and zero jitter for a clockwork beacon', () => {
    const p = only(beacon(jittered(12, 5000, 0, 1)));
    expect(p.verdict.periodMs).toBe(5000);
    expect(p.jitter).toBe(0);
    expect(p.verdict.reason).toBe('periodic every 5 s: 11 of 11 intervals within ±30 % of 5 s, jitter 0 % (MAD/median); 12 contacts over 55 s');
  });

  it('holds from 100 ms to hours', () => {
    const fast = only(beacon(jittered(40, 100, 0.1, 7), C2, 16));
    expect(fast.verdict.periodic).toBe(true);
    expect(Math.abs(fast.verdict.periodMs! - 100)).toBeLessThan(5);
    const slow = only(beacon(jittered(8, 2 * 3600_000, 0.1, 8)));
    expect(slow.verdict.periodic).toBe(true);
    expect(slow.verdict.reason).toMatch(/^periodic every 2 h( \d+ min)?: 7 of 7 intervals/);
  });

  it('tolerates missed beats and says so', () => {
    const all = jittered(20, 5000, 0.1, 3);
    const p = only(beacon(all.filter((_, i) => i !== 7 && i !== 13)));
    expect(p.verdict.periodic).toBe(true);
    expect(p.verdict.missedBeats).toBe(2);
    expect(p.verdict.reason).toBe('periodic every 4.96 s: 15 of 17 intervals within ±30 % of 4.96 s, jitter 5.3 % (MAD/median), 2 missed beats; 18 contacts over 1 min 34 s');
  });

  it('separates two interleaved beacons to different destinations', () => {
    const events = [...beacon(jittered(40, 1000, 0.05, 11), C2), ...beacon(jittered(8, 7000, 0.05, 12, 300), { address: '10.0.8.8', port: 8443 })];
    const patterns = analyzeContacts(events);
    expect(patterns.map((p) => [p.key, p.contacts.length, p.verdict.periodic])).toEqual([
      ['10.0.3.7:4444/tcp', 40, true],
      ['10.0.8.8:8443/tcp', 8, true],
    ]);
    expect(Math.abs(patterns[0]!.verdict.periodMs! - 1000)).toBeLessThan(40);
    expect(Math.abs(patterns[1]!.verdict.periodMs! - 7000)).toBeLessThan(300);
  });

  it('is not fooled by random (Poisson) traffic', () => {
    const r = rng(42);
    const times: number[] = [0];
    for (let i = 0; i < 80; i++) times.push(times[times.length - 1]! - 2000 * Math.log(1 - r()));
    const p = only(beacon(times));
    expect(p.verdict.status).toBe('not_periodic');
    expect(p.verdict.confidence).toBe(1);
    expect(p.verdict.reason).toMatch(/^not periodic: only \d+ of \d+ intervals are within ±30 % of [\d.]+ (s|ms) \(the most common spacing\); intervals vary with a coefficient of variation of [\d.]+$/);
  });

  it('is not fooled by bursty request/response traffic', () => {
    // An HTTP client: 50 requests within about a second, at irregular moments, then idle.
    const r = rng(5);
    const events: SocketEvent[] = [];
    for (const burst of [0, 7300, 9100, 31000, 32500, 70000, 71200]) {
      let t = burst;
      events.push(socket({ ms: t, op: 'connect', remote: API }));
      for (let i = 0; i < 50; i++) {
        events.push(socket({ ms: t + 1, op: 'send', remote: API, bytes: 400 }), socket({ ms: t + 8 + 10 * r(), op: 'recv', remote: API, bytes: 2000 }));
        t += 15 + 10 * r();
      }
    }
    const p = only(events);
    expect(p.contacts).toHaveLength(7);
    expect(p.bytesOutPerContactMedian).toBe(20000);
    expect(p.verdict.status).toBe('not_periodic');
  });

  it('calls a regular train that stopped long before the end of observation a burst', () => {
    // 50 fire-and-forget sends every 150 ms, then silence for 10 minutes.
    const events = Array.from({ length: 50 }, (_, i) => socket({ ms: i * 150, op: 'send', remote: API, bytes: 100 }));
    const window = { startNs: at(0), endNs: at(7350 + 600_000) };
    const p = only(events, { window });
    expect(p.verdict.status).toBe('not_periodic');
    expect(p.verdict.reason).toBe('not periodic: regular every 150 ms for 50 contacts, then silent for 10 min until the end of observation: a burst that stopped, not a running beacon');
    // Without the window the same train is indistinguishable from a running beacon.
    expect(only(events).verdict.periodic).toBe(true);
  });

  it('does not join two regular bursts separated by a long idle gap', () => {
    const times = [...starts(Array(9).fill(1000)), ...starts(Array(9).fill(1000), 609_000)];
    const p = only(beacon(times));
    expect(p.verdict.status).toBe('not_periodic');
    expect(p.verdict.reason).toBe(
      'not periodic: regular intervals cover only 2.9 % of the 10 min 18 s between first and last contact: bursts with idle gaps, not a rhythm',
    );
  });

  it('rejects wide jitter', () => {
    const p = only(beacon(jittered(40, 5000, 0.45, 9)));
    expect(p.verdict.periodic).toBe(false);
  });

  it('says when there are too few contacts', () => {
    const p = only(beacon([0, 5000, 10000]));
    expect(p.verdict).toEqual({
      status: 'insufficient', periodic: false, periodMs: null, confidence: 0, singles: 0, missedBeats: 0, outliers: 0,
      reason: 'insufficient: 3 contacts; at least 5 are needed to judge periodicity',
    });
    expect(p.intervalMedianMs).toBe(5000);
    expect(periodicity([0]).reason).toBe('insufficient: 1 contact; at least 5 are needed to judge periodicity');
  });
});

describe('periodicity over many random draws', () => {
  const seeds = Array.from({ length: 100 }, (_, i) => i + 1);
  const periodicShare = (make: (seed: number) => SocketEvent[]) =>
    seeds.filter((seed) => analyzeContacts(make(seed))[0]?.verdict.periodic === true).length / seeds.length;

  it('finds nearly every jittered beacon, even with missed beats', () => {
    expect(periodicShare((s) => beacon(jittered(10, 1000, 0.15, s)))).toBeGreaterThanOrEqual(0.97);
    expect(periodicShare((s) => beacon(jittered(10, 60_000, 0.2, s)))).toBeGreaterThanOrEqual(0.9);
    expect(periodicShare((s) => beacon(jittered(12, 5000, 0.15, s).filter((_, i) => i !== 3 && i !== 8)))).toBeGreaterThanOrEqual(0.95);
  });

  it('almost never calls random or bursty traffic periodic', () => {
    const poisson = (seed: number) => {
      const r = rng(seed);
      const t = [0];
      for (let i = 1; i < 30; i++) t.push(t[i - 1]! - 2000 * Math.log(1 - r()));
      return beacon(t);
    };
    expect(periodicShare(poisson)).toBeLessThanOrEqual(0.02);
    const bursty = (seed: number) => {
      const r = rng(seed);
      const events: SocketEvent[] = [];
      let burst = 0;
      for (let k = 0; k < 8; k++) {
        burst += 1000 + r() * 30_000;
        for (let i = 0, t = burst; i < 50; i++, t += 10 + r() * 30) {
          events.push(socket({ ms: t, op: 'send', remote: API, bytes: 100 }), socket({ ms: t + 5 + r() * 20, op: 'recv', remote: API, bytes: 900 }));
        }
      }
      return events;
    };
    expect(periodicShare(bursty)).toBeLessThanOrEqual(0.03);
  });
});
