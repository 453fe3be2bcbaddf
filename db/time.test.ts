import { describe, expect, it } from 'vitest';
import { nsToClickHouse, nsToMs, msToNs } from './time';

describe('nanosecond conversions', () => {
  it('keeps every nanosecond', () => {
    expect(nsToClickHouse('1767225600123456789')).toBe('1767225600.123456789');
    expect(nsToClickHouse('5')).toBe('0000000000.000000005');
    expect(nsToClickHouse('0')).toBe('0000000000.000000000');
    expect(nsToClickHouse(18446744073709551615n)).toBe('18446744073.709551615');
  });
  it('refuses negative values', () => {
    expect(() => nsToClickHouse(-1n)).toThrow(RangeError);
  });
  it('converts to and from milliseconds', () => {
    expect(nsToMs('1767225600123456789')).toBe(1767225600123);
    expect(msToNs(1767225600123)).toBe('1767225600123000000');
  });
});
