import { describe, expect, it } from 'vitest';
import { baselineHref, inboxStateToQuery, parseInboxState, toInboxInput, workloadFromSegments } from './inboxState';

const NOW_MS = Date.UTC(2026, 10, 22, 12, 0, 0);

describe('inbox state in the URL', () => {
  it('round-trips, leaving defaults out, and ignores what it does not know', () => {
    const s = parseInboxState(new URLSearchParams('range=7d&severity=high&kind=syscall&workload=cgroup/soc/a&node=n1'));
    expect(s).toEqual({ range: '7d', severity: 'high', kind: 'syscall', workload: 'cgroup/soc/a', node: 'n1' });
    expect(inboxStateToQuery(s)).toBe('range=7d&severity=high&kind=syscall&workload=cgroup%2Fsoc%2Fa&node=n1');
    expect(parseInboxState(new URLSearchParams('range=1y&severity=urgent&kind=x'))).toEqual({ range: '24h', severity: '', kind: '', workload: '', node: '' });
    expect(inboxStateToQuery(parseInboxState(new URLSearchParams('')))).toBe('');
  });

  it('resolves the window: the range before now, a day ahead for what arrives while it is open', () => {
    expect(toInboxInput(parseInboxState(new URLSearchParams('range=1h&severity=medium')), NOW_MS)).toEqual({
      from: ((BigInt(NOW_MS) - 3_600_000n) * 1_000_000n).toString(),
      to: ((BigInt(NOW_MS) + 86_400_000n) * 1_000_000n).toString(),
      severity: 'medium',
      limit: 200,
    });
  });

  it('links baselines by workload key, segment by segment', () => {
    expect(baselineHref('k8s/shop/checkout-api/api')).toBe('/baselines/k8s/shop/checkout-api/api');
    expect(baselineHref('systemd/getty@tty1.service')).toBe('/baselines/systemd/getty%40tty1.service');
    expect(workloadFromSegments(['systemd', 'getty%40tty1.service'])).toBe('systemd/getty@tty1.service');
    expect(workloadFromSegments(['host', 'usr', 'bin', 'dash'])).toBe('host/usr/bin/dash');
  });
});
