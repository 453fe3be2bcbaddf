import { describe, expect, it } from 'vitest';
import { parseSearchState, searchStateToQuery, toSearchInput } from './searchState';

const NOW_MS = Date.UTC(2025, 10, 22, 12, 0, 0);

describe('search state in the URL', () => {
  it('round-trips through the query string, leaving defaults out', () => {
    const state = parseSearchState(new URLSearchParams('binary=sleep&pid=101&range=6h&limit=250&node=web-1'));
    expect(state).toEqual({ node: 'web-1', binary: 'sleep', pid: '101', range: '6h', from: '', to: '', limit: 250 });
    expect(searchStateToQuery(state)).toBe('node=web-1&binary=sleep&pid=101&range=6h&limit=250');
    expect(searchStateToQuery(parseSearchState(new URLSearchParams('')))).toBe('');
  });

  it('falls back to defaults for unknown ranges and limits', () => {
    expect(parseSearchState(new URLSearchParams('range=99y&limit=7'))).toMatchObject({ range: '1h', limit: 100 });
  });

  it('resolves a preset against now, in nanoseconds', () => {
    const result = toSearchInput(parseSearchState(new URLSearchParams('binary=sleep&range=15m')), NOW_MS);
    expect(result).toEqual({
      input: { binary: 'sleep', from: `${NOW_MS - 15 * 60_000}000000`, to: `${NOW_MS}000000`, limit: 100 },
    });
  });

  it('keeps a custom window exact, to the nanosecond', () => {
    const state = parseSearchState(new URLSearchParams('range=custom&from=2025-11-22T10:00:00Z&to=1763809023123456789&pid=42'));
    expect(toSearchInput(state, NOW_MS)).toEqual({
      input: { pid: 42, from: '1763805600000000000', to: '1763809023123456789', limit: 100 },
    });
  });

  it('says what is wrong instead of sending a bad request', () => {
    const problem = (q: string) => toSearchInput(parseSearchState(new URLSearchParams(q)), NOW_MS);
    expect(problem('range=custom&from=soon&to=1')).toEqual({ problem: expect.stringContaining('"from" is not a time') });
    expect(problem('range=custom&from=2000&to=1000')).toEqual({ problem: 'Custom range: "to" is before "from".' });
    expect(problem('pid=12a')).toEqual({ problem: 'PID "12a" is not a process id.' });
  });
});
