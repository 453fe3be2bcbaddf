/**
 * Captured payload prefixes as an analyst reads them: a classic hex dump (offset, 16 bytes in two
 * groups of 8, the same bytes as ASCII with "." for anything not printable). Pure, unit-tested.
 */

export interface HexLine {
  /** "0000", "0010", … */
  offset: string;
  /** "de ad be ef …" (16 bytes, padded so the ASCII column lines up) */
  hex: string;
  ascii: string;
}

/** "DEADbeef" / "de ad be ef" / "de:ad" → bytes; null when the text is not whole hex bytes. */
export function hexToBytes(hex: string): Uint8Array | null {
  const clean = hex.replace(/[\s:]/g, '');
  if (clean.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(clean)) return null;
  const bytes = new Uint8Array(clean.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

/** Printable ASCII (0x20–0x7e) as itself, anything else as "." (never a control character on screen). */
export function asciiOf(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b >= 0x20 && b <= 0x7e ? String.fromCharCode(b) : '.';
  return out;
}

export function hexDump(bytes: Uint8Array, width = 16): HexLine[] {
  const lines: HexLine[] = [];
  for (let start = 0; start < bytes.length; start += width) {
    const chunk = bytes.subarray(start, start + width);
    const cells: string[] = [];
    for (let i = 0; i < width; i++) {
      const cell = i < chunk.length ? chunk[i]!.toString(16).padStart(2, '0') : '  ';
      // An extra space between the two halves of a line, as hexdump -C does.
      cells.push(i === width / 2 ? ` ${cell}` : cell);
    }
    lines.push({ offset: start.toString(16).padStart(4, '0'), hex: cells.join(' '), ascii: asciiOf(chunk) });
  }
  return lines;
}
