/**
 * Builders for the analyzers' tests: evidence rows at millisecond offsets from a fixed epoch,
 * a seeded random generator (tests are deterministic), byte strings.
 */
import { readFileSync } from 'node:fs';
import type { CodeFingerprint, FileAccess, IoUringOp, SocketEvent } from './types';

/** 2024-06-10T06:13:20Z in nanoseconds: beyond 2^53, so precision bugs would show. */
export const T0 = 1_718_000_000_000_000_000n;

/** The timestamp `ms` milliseconds after T0. */
export function at(ms: number): string {
  return (T0 + BigInt(Math.round(ms * 1e6))).toString();
}

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let counter = 0;
function nextId(prefix: string): string {
  counter += 1;
  return `${prefix}${counter}`;
}

type SocketInit = Partial<SocketEvent> & { ms: number; op: SocketEvent['op'] };

export function socket(init: SocketInit): SocketEvent {
  const { ms, ...rest } = init;
  return {
    id: nextId('s'), ts: at(ms), execId: 'node-1:abcd1234:1:100:1', protocol: 'tcp',
    remote: { address: '10.0.3.7', port: 4444 }, bytes: 0, via: 'syscall', ...rest,
  };
}

export function ioUring(init: Partial<IoUringOp> & { ms: number; opcode: string }): IoUringOp {
  const { ms, ...rest } = init;
  return { id: nextId('u'), ts: at(ms), execId: 'node-1:abcd1234:1:100:1', result: 0, ...rest };
}

export function file(init: Partial<FileAccess> & { ms: number; path: string; op: FileAccess['op'] }): FileAccess {
  const { ms, ...rest } = init;
  return { id: nextId('f'), ts: at(ms), execId: 'node-1:abcd1234:1:100:1', via: 'syscall', ...rest };
}

export function code(init: Partial<CodeFingerprint> & Pick<CodeFingerprint, 'path' | 'kind' | 'language'>): CodeFingerprint {
  return { id: nextId('c'), execId: 'node-1:abcd1234:1:100:1', languageEvidence: [], ...init };
}

/** A beacon's contacts: connect + send at each start time. */
export function beacon(startsMs: readonly number[], remote = { address: '10.0.3.7', port: 4444 }, sendBytes = 64): SocketEvent[] {
  return startsMs.flatMap((ms) => [
    socket({ ms, op: 'connect', remote, result: 0 }),
    socket({ ms: ms + 0.4, op: 'send', remote, bytes: sendBytes }),
  ]);
}

/** Start times every `periodMs`, each shifted by a uniform jitter of ±`jitter` of the period. */
export function jittered(count: number, periodMs: number, jitter: number, seed: number, startMs = 0): number[] {
  const r = rng(seed);
  const out: number[] = [];
  let t = startMs;
  for (let i = 0; i < count; i++) {
    out.push(t);
    t += periodMs * (1 + jitter * (2 * r() - 1));
  }
  return out;
}

/** Bytes from numbers, ASCII strings and byte arrays, concatenated. */
export function bytes(...parts: Array<number | readonly number[] | string | Uint8Array>): Uint8Array {
  const out: number[] = [];
  for (const p of parts) {
    if (typeof p === 'number') out.push(p);
    else if (typeof p === 'string') for (let i = 0; i < p.length; i++) out.push(p.charCodeAt(i) & 0xff);
    else out.push(...p);
  }
  return Uint8Array.from(out);
}

export function fromHex(hex: string): Uint8Array {
  const clean = hex.replace(/\s+/g, '');
  return Uint8Array.from(clean.match(/../g) ?? [], (h) => parseInt(h, 16));
}

/** Big-endian u16 / u32 as byte arrays. */
export function be16(n: number): number[] {
  return [(n >> 8) & 0xff, n & 0xff];
}
export function be32(n: number): number[] {
  return [(n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
}
export function le32(n: number): number[] {
  return be32(n).reverse();
}

/** n seeded random bytes (stand-in for encrypted data). */
export function randomBytes(n: number, seed: number): Uint8Array {
  const r = rng(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
}

/** A binary sample from testdata/ (see testdata/README.md for how each was made). */
export function fixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(new URL(`./testdata/${name}`, import.meta.url)));
}
