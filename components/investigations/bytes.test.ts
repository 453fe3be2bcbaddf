import { describe, expect, it } from 'vitest';
import { asciiOf, hexDump, hexToBytes } from './bytes';

describe('hex and ASCII of captured prefixes', () => {
  it('reads hex in the usual spellings and refuses anything else', () => {
    expect(Array.from(hexToBytes('DEADbeef')!)).toEqual([0xde, 0xad, 0xbe, 0xef]);
    expect(Array.from(hexToBytes('de ad:be\nef')!)).toEqual([0xde, 0xad, 0xbe, 0xef]);
    expect(Array.from(hexToBytes('')!)).toEqual([]);
    expect(hexToBytes('abc')).toBeNull();
    expect(hexToBytes('zz')).toBeNull();
  });

  it('shows printable ASCII only', () => {
    expect(asciiOf(new Uint8Array([0x48, 0x69, 0x00, 0x0a, 0x1b, 0x7e, 0x7f, 0xff, 0x20]))).toBe('Hi...~.. ');
  });

  it('dumps 16 bytes a line with offsets, a gap after 8, and a padded last line', () => {
    // a length-prefixed frame: 4-byte big-endian length then "TOKEN=eyJhbGciOi"
    const bytes = hexToBytes('0000001a544f4b454e3d65794a68624763694f69')!;
    expect(hexDump(bytes)).toEqual([
      { offset: '0000', hex: '00 00 00 1a 54 4f 4b 45  4e 3d 65 79 4a 68 62 47', ascii: '....TOKEN=eyJhbG' },
      { offset: '0010', hex: '63 69 4f 69'.padEnd(48), ascii: 'ciOi' },
    ]);
    expect(hexDump(bytes)[1]!.hex.length).toBe(hexDump(bytes)[0]!.hex.length);
    expect(hexDump(new Uint8Array(0))).toEqual([]);
  });
});
