/**
 * MessagePack (github.com/msgpack/msgpack/blob/master/spec.md): a message counts when it is one
 * map or array at the top, parsed whole (every type byte valid — 0xc1 never is — every length
 * within the message), with a plausible shape: map keys are strings or integers, and no
 * container announces more elements than bytes remain in the message (each element takes at
 * least one byte). A message longer than the capture counts when it is valid up to the cut.
 */

export interface MsgpackSummary {
  top: 'map' | 'array';
  /** entries of the top-level map or array */
  count: number;
  /** the top-level map's string keys, as far as read (at most 10) */
  keys: string[];
  truncated: boolean;
}

class OutOfBytes extends Error {}
class Malformed extends Error {}

const MAX_DEPTH = 32;

class Reader {
  pos = 0;
  keys: string[] = [];
  constructor(
    private readonly b: Uint8Array,
    private readonly size: number,
  ) {}

  private need(n: number): void {
    if (this.pos + n > this.size) throw new Malformed();
    if (this.pos + n > this.b.length) throw new OutOfBytes();
  }

  private uint(n: number): number {
    this.need(n);
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 256 + this.b[this.pos + i]!;
    this.pos += n;
    return v;
  }

  private skip(n: number): void {
    this.need(n);
    this.pos += n;
  }

  private text(n: number): string {
    this.need(n);
    const s = new TextDecoder('utf-8', { fatal: true }).decode(this.b.subarray(this.pos, this.pos + n));
    this.pos += n;
    return s;
  }

  private checkCount(count: number, perItem: number): void {
    if (count * perItem > this.size - this.pos) throw new Malformed();
  }

  /** Reads one value; returns its kind ('str' | 'int' | 'map' | 'array' | 'other'). */
  value(depth: number, collectKeys = false): string {
    if (depth > MAX_DEPTH) throw new Malformed();
    const t = this.uint(1);
    if (t <= 0x7f || t >= 0xe0) return 'int';
    if (t <= 0x8f) return this.map(t & 0x0f, depth, collectKeys);
    if (t <= 0x9f) return this.array(t & 0x0f, depth);
    if (t <= 0xbf) return this.str(t & 0x1f);
    switch (t) {
      case 0xc0: case 0xc2: case 0xc3: return 'other';
      case 0xc1: throw new Malformed();
      case 0xc4: this.skip(this.uint(1)); return 'other';
      case 0xc5: this.skip(this.uint(2)); return 'other';
      case 0xc6: this.skip(this.uint(4)); return 'other';
      case 0xc7: { const n = this.uint(1); this.skip(1 + n); return 'other'; }
      case 0xc8: { const n = this.uint(2); this.skip(1 + n); return 'other'; }
      case 0xc9: { const n = this.uint(4); this.skip(1 + n); return 'other'; }
      case 0xca: this.skip(4); return 'other';
      case 0xcb: this.skip(8); return 'other';
      case 0xcc: case 0xd0: this.skip(1); return 'int';
      case 0xcd: case 0xd1: this.skip(2); return 'int';
      case 0xce: case 0xd2: this.skip(4); return 'int';
      case 0xcf: case 0xd3: this.skip(8); return 'int';
      case 0xd4: this.skip(2); return 'other';
      case 0xd5: this.skip(3); return 'other';
      case 0xd6: this.skip(5); return 'other';
      case 0xd7: this.skip(9); return 'other';
      case 0xd8: this.skip(17); return 'other';
      case 0xd9: return this.str(this.uint(1));
      case 0xda: return this.str(this.uint(2));
      case 0xdb: return this.str(this.uint(4));
      case 0xdc: return this.array(this.uint(2), depth);
      case 0xdd: return this.array(this.uint(4), depth);
      case 0xde: return this.map(this.uint(2), depth, collectKeys);
      case 0xdf: return this.map(this.uint(4), depth, collectKeys);
      default: throw new Malformed();
    }
  }

  private lastString = '';

  private str(n: number): string {
    this.need(n);
    try {
      this.lastString = this.text(n);
    } catch (err) {
      if (err instanceof TypeError) throw new Malformed(); // not UTF-8
      throw err;
    }
    return 'str';
  }

  private map(count: number, depth: number, collectKeys: boolean): string {
    this.checkCount(count, 2);
    for (let i = 0; i < count; i++) {
      const key = this.value(depth + 1);
      if (key !== 'str' && key !== 'int') throw new Malformed();
      if (collectKeys && key === 'str' && this.keys.length < 10) this.keys.push(this.lastString);
      this.value(depth + 1);
    }
    return 'map';
  }

  private array(count: number, depth: number): string {
    this.checkCount(count, 1);
    for (let i = 0; i < count; i++) this.value(depth + 1);
    return 'array';
  }

  topCount(): number {
    const t = this.b[0]!;
    if ((t & 0xf0) === 0x80 || (t & 0xf0) === 0x90) return t & 0x0f;
    const n = t === 0xdc || t === 0xde ? 2 : 4;
    let v = 0;
    for (let i = 1; i <= n && i < this.b.length; i++) v = v * 256 + this.b[i]!;
    return v;
  }
}

function topKind(t: number): 'map' | 'array' | null {
  if ((t >= 0x80 && t <= 0x8f) || t === 0xde || t === 0xdf) return 'map';
  if ((t >= 0x90 && t <= 0x9f) || t === 0xdc || t === 0xdd) return 'array';
  return null;
}

/** Parses `b` (a prefix of a `size`-byte message) as one msgpack map or array; null if not. */
export function parseMsgpack(b: Uint8Array, size = b.length): MsgpackSummary | null {
  const top = b.length > 0 ? topKind(b[0]!) : null;
  if (!top) return null;
  const r = new Reader(b, size);
  try {
    r.value(0, true);
  } catch (err) {
    if (err instanceof OutOfBytes) return { top, count: r.topCount(), keys: r.keys, truncated: true };
    if (err instanceof Malformed) return null;
    throw err;
  }
  if (r.pos !== size) return null; // bytes left over: not one msgpack value
  const count = r.topCount();
  if (count === 0) return null; // "\x80" / "\x90" alone is too weak a sign
  return { top, count, keys: r.keys, truncated: false };
}
