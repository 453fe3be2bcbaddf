import { describe, expect, it } from 'vitest';
import { createServiceMap, ServiceMapError, type ServiceMapEntry } from './serviceMap';

const entries: ServiceMapEntry[] = [
  { name: 'cluster-services', cidr: '10.96.0.0/12', source: 'config' },
  { name: 'redis.cache', cidr: '10.96.0.0/12', port: 6379, source: 'config' },
  { name: 'redis.cache', address: '10.96.12.7', port: 6379, protocol: 'tcp', namespace: 'cache', source: 'kubernetes', detail: 'clusterIP of Service cache/redis' },
  { name: 'ephemeral-range', cidr: '10.96.0.0/12', portRange: { from: 30000, to: 32767 }, source: 'config' },
  { name: 'narrow-range', cidr: '10.96.0.0/12', portRange: { from: 30000, to: 30100 }, source: 'config' },
  { name: 'dns', cidr: '10.96.0.10/32', port: 53, protocol: 'udp', source: 'config' },
  { name: 'dns-tcp', cidr: '10.96.0.10/32', port: 53, source: 'config' },
  { name: 'api.web', address: '203.0.113.10', port: 443, source: 'config' },
  { name: 'cdn.web', address: '203.0.113.11', port: 443, source: 'config' },
  { name: 'img.web', address: '203.0.113.12', port: 443, source: 'config' },
  { name: 'v6-backend', cidr: 'fd00:10::/64', port: 8080, source: 'config' },
  { name: 'override', address: '10.96.50.50', port: 9000, source: 'kubernetes' },
  { name: 'override-config', address: '10.96.50.50', port: 9000, source: 'config' },
];
const map = createServiceMap(entries);

describe('service map lookup', () => {
  it('prefers the longest prefix, with a reason naming block, port and source', () => {
    const r = map.lookup({ address: '10.96.12.7', port: 6379, protocol: 'tcp' });
    expect(r.match?.name).toBe('redis.cache');
    expect(r.match?.prefix).toBe(32);
    expect(r.reason).toBe('10.96.12.7:6379 matched redis.cache (address 10.96.12.7, port 6379/tcp, from kubernetes: clusterIP of Service cache/redis)');
  });

  it('matches the brief\'s example through the /12 entry and prefers an exact port over any port', () => {
    const r = map.lookup({ address: '10.96.44.2', port: 6379, protocol: 'tcp' });
    expect(r.reason).toBe('10.96.44.2:6379 matched redis.cache (10.96.0.0/12, port 6379, from config)');
    expect(r.match?.port).toBe('exact');
  });

  it('prefers a narrower port range, then a wider one, then any port', () => {
    expect(map.lookup({ address: '10.96.1.1', port: 30050, protocol: 'tcp' }).match?.name).toBe('narrow-range');
    expect(map.lookup({ address: '10.96.1.1', port: 31000, protocol: 'tcp' }).match?.name).toBe('ephemeral-range');
    const any = map.lookup({ address: '10.96.1.1', port: 8080, protocol: 'tcp' });
    expect(any.match?.name).toBe('cluster-services');
    expect(any.reason).toBe('10.96.1.1:8080 matched cluster-services (10.96.0.0/12, any port, from config)');
  });

  it('prefers an entry naming the protocol, and respects it', () => {
    expect(map.lookup({ address: '10.96.0.10', port: 53, protocol: 'udp' }).match?.name).toBe('dns');
    expect(map.lookup({ address: '10.96.0.10', port: 53, protocol: 'tcp' }).match?.name).toBe('dns-tcp');
  });

  it('lets configuration win over Kubernetes at equal specificity', () => {
    expect(map.lookup({ address: '10.96.50.50', port: 9000, protocol: 'tcp' }).match?.name).toBe('override-config');
  });

  it('matches IPv6 blocks and IPv4-mapped IPv6 destinations', () => {
    expect(map.lookup({ address: 'fd00:10::7', port: 8080, protocol: 'tcp' }).reason).toBe('[fd00:10::7]:8080 matched v6-backend (fd00:10::/64, port 8080, from config)');
    expect(map.lookup({ address: '::ffff:10.96.12.7', port: 6379, protocol: 'tcp' }).match?.name).toBe('redis.cache');
  });

  it('explains an unknown destination by its neighbourhood', () => {
    const r = map.lookup({ address: '203.0.113.9', port: 443, protocol: 'tcp' });
    expect(r.match).toBeNull();
    expect(r.scope).toBe('documentation');
    expect(r.reason).toBe('no entry for 203.0.113.9:443; 3 entries cover this /24 (203.0.113.0/24); a documentation address');
  });

  it('says when the address is known but the port is not', () => {
    const r = map.lookup({ address: '203.0.113.10', port: 4444, protocol: 'tcp' });
    expect(r.reason).toBe('no entry for 203.0.113.10:4444; 203.0.113.10 is covered by api.web (port 443), but not on port 4444/tcp');
  });

  it('says when nothing is near, with the address scope', () => {
    const r = map.lookup({ address: '10.0.3.7', port: 4444, protocol: 'tcp' });
    expect(r.reason).toBe('no entry for 10.0.3.7:4444; no entry covers this /24 (10.0.3.0/24) either; a private address');
    expect(map.lookup({ address: 'fd00:99::1', port: 1, protocol: 'udp' }).reason).toBe(
      'no entry for [fd00:99::1]:1/udp; no entry covers this /64 (fd00:99::/64) either; a private address',
    );
    expect(map.lookup({ address: 'db.internal', port: 5432, protocol: 'tcp' }).reason).toBe('db.internal is not an IP address; no entry can match it');
  });

  it('refuses invalid entries, naming them', () => {
    expect(() => createServiceMap([{ name: 'x', cidr: '10.0.0.0/33', source: 'config' }])).toThrow(ServiceMapError);
    expect(() => createServiceMap([{ name: 'x', cidr: '10.0.0.0/33', source: 'config' }])).toThrow('service map entry 0 ("x"): "10.0.0.0/33" is not a valid CIDR');
    expect(() => createServiceMap([{ name: 'x', source: 'config' }])).toThrow('give exactly one of cidr or address');
    expect(() => createServiceMap([{ name: 'x', address: '10.0.0.1', port: 70000, source: 'config' }])).toThrow('port 70000 is not in 1-65535');
    expect(() => createServiceMap([{ name: 'x', address: '10.0.0.1', portRange: { from: 9, to: 1 }, source: 'config' }])).toThrow('port range 9-1');
  });
});
