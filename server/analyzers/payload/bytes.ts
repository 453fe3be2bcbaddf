/**
 * Byte helpers shared by the payload parsers: bounds-checked integer reads (null past the end,
 * so a parser can tell "ran out of captured bytes" from "invalid"), hex and text views.
 */

export function u8(b: Uint8Array, off: number): number | null {
  return off >= 0 && off < b.length ? b[off]! : null;
}

export function u16be(b: Uint8Array, off: number): number | null {
  return off >= 0 && off + 2 <= b.length ? (b[off]! << 8) | b[off + 1]! : null;
}

export function u16le(b: Uint8Array, off: number): number | null {
  return off >= 0 && off + 2 <= b.length ? b[off]! | (b[off + 1]! << 8) : null;
}

export function u24be(b: Uint8Array, off: number): number | null {
  return off >= 0 && off + 3 <= b.length ? (b[off]! << 16) | (b[off + 1]! << 8) | b[off + 2]! : null;
}

export function u24le(b: Uint8Array, off: number): number | null {
  return off >= 0 && off + 3 <= b.length ? b[off]! | (b[off + 1]! << 8) | (b[off + 2]! << 16) : null;
}

export function u32be(b: Uint8Array, off: number): number | null {
  return off >= 0 && off + 4 <= b.length ? ((b[off]! << 24) >>> 0) + ((b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) : null;
}

export function u32le(b: Uint8Array, off: number): number | null {
  return off >= 0 && off + 4 <= b.length ? ((b[off + 3]! << 24) >>> 0) + ((b[off + 2]! << 16) | (b[off + 1]! << 8) | b[off]!) : null;
}

export function hex(b: Uint8Array, max = b.length): string {
  let out = '';
  for (let i = 0; i < Math.min(max, b.length); i++) out += b[i]!.toString(16).padStart(2, '0');
  return out;
}

/** "0x0000003c" */
export function hexNumber(n: number, bytes: number): string {
  return `0x${n.toString(16).padStart(bytes * 2, '0')}`;
}

/** One character per byte (for matching ASCII protocol text). */
export function latin1(b: Uint8Array, max = b.length): string {
  let out = '';
  for (let i = 0; i < Math.min(max, b.length); i++) out += String.fromCharCode(b[i]!);
  return out;
}

export function startsWithAscii(b: Uint8Array, text: string): boolean {
  if (b.length < text.length) return false;
  for (let i = 0; i < text.length; i++) if (b[i] !== text.charCodeAt(i)) return false;
  return true;
}

/** Length of a UTF-8 sequence announced by a lead byte (0 when not a lead byte). */
function utf8SequenceLength(lead: number): number {
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;
}

/**
 * Decodes UTF-8 that may have been cut by the capture: an incomplete sequence at the very end is
 * dropped. Null when the bytes are not UTF-8.
 */
export function decodeUtf8Prefix(b: Uint8Array): string | null {
  let end = b.length;
  for (let back = 1; back <= 3 && b.length - back >= 0; back++) {
    const i = b.length - back;
    const byte = b[i]!;
    if (byte >= 0x80 && byte < 0xc0) continue; // continuation byte: look further back
    const need = utf8SequenceLength(byte);
    if (need > back) end = i;
    break;
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(b.subarray(0, end));
  } catch {
    return null;
  }
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
