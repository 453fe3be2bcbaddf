import { describe, expect, it } from 'vitest';
import { brushToRange, EMPTY_VIEW, narrowingInput, parseViewState, stepPanel, viewHref, viewStateToQuery, type ViewState } from './viewState';

const EXEC = 'node-1:0a1b2c3d:1763809000000000000:4242:1';
const parse = (query: string) => parseViewState(new URLSearchParams(query));

describe('investigation view state in the URL', () => {
  it('round-trips every field, in a fixed order', () => {
    const state: ViewState = { from: '1763809000123456789', to: '1763809060000000000', exec: EXEC, panel: 'network', row: 'io.AbC-1_2~x' };
    const query = viewStateToQuery(state);
    expect(query).toBe(`from=1763809000123456789&to=1763809060000000000&exec=${encodeURIComponent(EXEC)}&panel=network&row=io.AbC-1_2%7Ex`);
    expect(parse(query)).toEqual({ state, ignored: [] });
    expect(viewHref('0123456789abcdef01234567', state)).toBe(`/investigations/0123456789abcdef01234567?${query}`);
    expect(viewHref('0123456789abcdef01234567', EMPTY_VIEW)).toBe('/investigations/0123456789abcdef01234567');
  });

  it('drops bad values and says why, keeping the good ones', () => {
    const { state, ignored } = parse('from=yesterday&to=99999999999999999999&exec=rm%20-rf&panel=secret&row=%3Cscript%3E');
    expect(state).toEqual(EMPTY_VIEW);
    expect(ignored).toEqual([
      'from: not a nanosecond timestamp',
      'to: not a nanosecond timestamp',
      'exec: not an exec id (node:boot:start_ns:pid:exec_count)',
      'panel: one of timeline, ancestry, network, files, code, evidence, notes, zooms',
      'row: not an evidence reference',
    ]);
    expect(parse('from=-5&to=12').state).toEqual({ ...EMPTY_VIEW, to: '12' });
    // beyond the signed 64-bit nanosecond range
    expect(parse('from=9223372036854775808').state.from).toBeNull();
    expect(parse('from=9223372036854775807').state.from).toBe('9223372036854775807');
  });

  it('refuses a range that ends before it starts, and treats empty values as absent', () => {
    expect(parse('from=200&to=100')).toEqual({ state: EMPTY_VIEW, ignored: ['from/to: the range ends before it starts'] });
    expect(parse('from=&to=&exec=&panel=&row=')).toEqual({ state: EMPTY_VIEW, ignored: [] });
    // leading zeros normalised, so equal ranges give equal links
    expect(parse('from=0007&to=0010').state).toMatchObject({ from: '7', to: '10' });
  });

  it('gives the procedures only the narrowing that is set', () => {
    expect(narrowingInput(EMPTY_VIEW)).toEqual({});
    expect(narrowingInput({ ...EMPTY_VIEW, from: '1', exec: EXEC, panel: 'code' })).toEqual({ from: '1', execId: EXEC });
  });

  it('turns a brushed range in ms into whole-millisecond nanoseconds', () => {
    expect(brushToRange(1763809000123.4, 1763809000456.2)).toEqual({ from: '1763809000123000000', to: '1763809000457999999' });
    expect(brushToRange(20, 10)).toEqual({ from: '10000000', to: '20999999' });
    expect(brushToRange(Number.NaN, 10)).toBeNull();
    expect(brushToRange(-1, 10)).toBeNull();
  });

  it('steps between panels, wrapping around', () => {
    expect(stepPanel(null, 1)).toBe('timeline');
    expect(stepPanel(null, -1)).toBe('zooms');
    expect(stepPanel('timeline', -1)).toBe('zooms');
    expect(stepPanel('network', 1)).toBe('files');
    expect(stepPanel('files', 1, ['network', 'files'])).toBe('network');
    expect(stepPanel('code', 1, ['network', 'files'])).toBe('network');
  });
});
