import { describe, expect, it } from 'vitest';
import { formatArgv, formatContainer, formatExit, processHref } from './process';
import { formatDurationNs, formatNs, formatNsPrecise, nsToInputValue, parseTimeToNs } from './time';

describe('time display', () => {
  const ns = '1763809023123456789'; // 2025-11-22T10:57:03.123456789Z
  it('keeps every nanosecond in the precise form and milliseconds in the table form', () => {
    expect(formatNsPrecise(ns)).toBe('2025-11-22T10:57:03.123456789Z');
    expect(formatNs(ns)).toBe('2025-11-22 10:57:03.123');
    expect(formatNsPrecise('1000000005')).toBe('1970-01-01T00:00:01.000000005Z');
  });

  it('reads nanoseconds and UTC date-times, keeping sub-millisecond digits', () => {
    expect(parseTimeToNs(ns)).toBe(ns);
    expect(parseTimeToNs('2025-11-22T10:57:03.123456789Z')).toBe(ns);
    expect(parseTimeToNs('2025-11-22T10:57:03')).toBe('1763809023000000000');
    expect(parseTimeToNs('2025-11-22T10:57')).toBe('1763809020000000000');
    expect(parseTimeToNs('2025-11-22T11:57:03+01:00')).toBe('1763809023000000000');
    expect(parseTimeToNs('yesterday')).toBeNull();
    expect(nsToInputValue(ns)).toBe('2025-11-22T10:57:03');
  });

  it('formats durations at a readable unit', () => {
    expect(formatDurationNs(999n)).toBe('999 ns');
    expect(formatDurationNs(2_500_000n)).toBe('2.5 ms');
    expect(formatDurationNs(2_424_000_000n)).toBe('2.4 s');
    expect(formatDurationNs(200_000_000_000n)).toBe('3 min 20 s');
    expect(formatDurationNs(7_500_000_000_000n)).toBe('2 h 5 min');
    expect(formatDurationNs(3n * 86_400_000_000_000n + 3_600_000_000_000n)).toBe('3 d 1 h');
  });
});

describe('process display', () => {
  it('quotes arguments the way a shell would need them', () => {
    expect(formatArgv(['sh', '-c', 'sh -c "exec sleep 2"'])).toBe(`sh -c 'sh -c "exec sleep 2"'`);
    expect(formatArgv(['echo', "it's", ''])).toBe(`echo 'it'\\''s' ''`);
    expect(formatArgv(['sleep', '2.4242'])).toBe('sleep 2.4242');
  });

  it('names exits, signals and containers', () => {
    expect(formatExit({ exited: false, exitCode: null, exitSignal: null })).toBe('running');
    expect(formatExit({ exited: true, exitCode: 3, exitSignal: 0 })).toBe('exit 3');
    expect(formatExit({ exited: true, exitCode: 0, exitSignal: 9 })).toBe('killed by SIGKILL (9)');
    expect(formatContainer({ runtime: '', containerId: '', podName: '', namespace: '' })).toBe('host');
    expect(formatContainer({ runtime: 'docker', containerId: '3f9a1c2b7d4e5f60aa', podName: '', namespace: '' })).toBe('docker 3f9a1c2b7d4e');
    expect(formatContainer({ runtime: 'containerd', containerId: 'abc', podName: 'web-1', namespace: 'shop' })).toBe('shop/web-1 (containerd abc)');
  });

  it('encodes exec ids in links', () => {
    expect(processHref('node-a:0a1b2c3d:1005:101:3')).toBe('/processes/node-a%3A0a1b2c3d%3A1005%3A101%3A3');
  });
});
