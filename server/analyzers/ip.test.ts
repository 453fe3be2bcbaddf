import { describe, expect, it } from 'vitest';
import { addressScope, cidrContains, cidrsOverlap, formatCidr, formatEndpoint, formatIp, networkOf, parseCidr, parseIp } from './ip';

describe('parseIp / formatIp', () => {
  it('reads IPv4 strictly', () => {
    expect(parseIp('10.96.12.7')).toEqual({ family: 4, value: 0x0a600c07n });
    expect(parseIp('255.255.255.255')?.value).toBe(0xffffffffn);
    for (const bad of ['10.96.12', '10.96.12.7.1', '256.1.1.1', '010.1.1.1', '1.2.3.-4', '', 'a.b.c.d', '1..2.3']) expect(parseIp(bad)).toBeNull();
  });

  it('reads IPv6 with compression, embedded IPv4, zone and brackets', () => {
    expect(formatIp(parseIp('2001:0db8:0000:0000:0000:ff00:0042:8329')!)).toBe('2001:db8::ff00:42:8329');
    expect(formatIp(parseIp('::1')!)).toBe('::1');
    expect(formatIp(parseIp('::')!)).toBe('::');
    expect(formatIp(parseIp('fe80::1%eth0')!)).toBe('fe80::1');
    expect(formatIp(parseIp('[fd00::a]')!)).toBe('fd00::a');
    expect(formatIp(parseIp('64:ff9b::192.0.2.33')!)).toBe('64:ff9b::c000:221');
    // RFC 5952: the longest zero run is compressed, the first of equal runs, a single zero never.
    expect(formatIp(parseIp('2001:db8:0:0:1:0:0:1')!)).toBe('2001:db8::1:0:0:1');
    expect(formatIp(parseIp('2001:db8:0:1:1:1:1:1')!)).toBe('2001:db8:0:1:1:1:1:1');
    for (const bad of ['1::2::3', '12345::', ':::', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', 'g::1', '::1.2.3']) expect(parseIp(bad)).toBeNull();
  });

  it('treats IPv4-mapped IPv6 (what dual-stack sockets report) as IPv4', () => {
    expect(parseIp('::ffff:10.96.12.7')).toEqual({ family: 4, value: 0x0a600c07n });
    expect(parseIp('::ffff:a60:c07')).toEqual({ family: 4, value: 0x0a600c07n });
  });
});

describe('CIDR blocks', () => {
  it('parses, clears host bits and formats', () => {
    expect(formatCidr(parseCidr('10.96.12.7/12')!)).toBe('10.96.0.0/12');
    expect(formatCidr(parseCidr('fd00:1:2::/48')!)).toBe('fd00:1:2::/48');
    expect(formatCidr(parseCidr('10.1.2.3')!)).toBe('10.1.2.3/32');
    expect(formatCidr(parseCidr('::ffff:10.0.0.0/104')!)).toBe('10.0.0.0/8');
    expect(formatCidr(parseCidr('0.0.0.0/0')!)).toBe('0.0.0.0/0');
    for (const bad of ['10.0.0.0/33', '10.0.0.0/-1', '10.0.0.0/a', 'fd00::/129', '10.0.0.0/8/1', 'x/8']) expect(parseCidr(bad)).toBeNull();
  });

  it('contains and overlaps within one family only', () => {
    const svc = parseCidr('10.96.0.0/12')!;
    expect(cidrContains(svc, parseIp('10.111.255.255')!)).toBe(true);
    expect(cidrContains(svc, parseIp('10.112.0.0')!)).toBe(false);
    expect(cidrContains(parseCidr('0.0.0.0/0')!, parseIp('203.0.113.9')!)).toBe(true);
    expect(cidrContains(parseCidr('::/0')!, parseIp('10.0.0.1')!)).toBe(false);
    expect(cidrContains(parseCidr('fd00::/8')!, parseIp('fd12:3456::1')!)).toBe(true);
    expect(cidrsOverlap(parseCidr('203.0.113.0/24')!, parseCidr('203.0.113.128/25')!)).toBe(true);
    expect(cidrsOverlap(parseCidr('203.0.113.0/24')!, parseCidr('203.0.114.0/24')!)).toBe(false);
    expect(formatCidr(networkOf(parseIp('2001:db8:1:2:3:4:5:6')!, 64))).toBe('2001:db8:1:2::/64');
  });
});

describe('addressScope', () => {
  it.each([
    ['10.0.3.7', 'private'], ['172.20.1.1', 'private'], ['172.32.0.1', 'public'], ['192.168.1.1', 'private'],
    ['100.64.0.1', 'shared'], ['127.0.0.1', 'loopback'], ['169.254.169.254', 'link_local'], ['224.0.0.251', 'multicast'],
    ['203.0.113.9', 'documentation'], ['8.8.8.8', 'public'], ['0.0.0.0', 'unspecified'], ['240.0.0.1', 'reserved'],
    ['::1', 'loopback'], ['fd00::1', 'private'], ['fe80::1', 'link_local'], ['ff02::1', 'multicast'], ['2001:db8::1', 'documentation'],
    ['2a00:1450:4001:80b::200e', 'public'],
  ])('%s is %s', (address, scope) => {
    expect(addressScope(parseIp(address)!)).toBe(scope);
  });
});

describe('formatEndpoint', () => {
  it('brackets IPv6 and unmaps IPv4-mapped addresses', () => {
    expect(formatEndpoint('10.0.3.7', 4444)).toBe('10.0.3.7:4444');
    expect(formatEndpoint('FD00:0::1', 443)).toBe('[fd00::1]:443');
    expect(formatEndpoint('::ffff:10.0.3.7', 4444)).toBe('10.0.3.7:4444');
    expect(formatEndpoint('not-an-ip', 80)).toBe('not-an-ip:80');
  });
});
