import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { ipv6Bytes, isLocalAddress, parsePeer, procNetHex, socketInodes } from './peer';

describe('gRPC peer -> local socket', () => {
  it('parses gRPC peer strings', () => {
    expect(parsePeer('ipv4:127.0.0.1:54321')).toEqual({ family: 4, address: '127.0.0.1', port: 54321 });
    expect(parsePeer('ipv6:[::1]:443')).toEqual({ family: 6, address: '::1', port: 443 });
    expect(parsePeer('ipv6:[::ffff:10.0.0.7]:5000')).toEqual({ family: 6, address: '::ffff:10.0.0.7', port: 5000 });
    // @grpc/grpc-js's call.getPeer(): no family prefix.
    expect(parsePeer('127.0.0.1:60924')).toEqual({ family: 4, address: '127.0.0.1', port: 60924 });
    expect(parsePeer('[::1]:443')).toEqual({ family: 6, address: '::1', port: 443 });
    expect(parsePeer('unix:/run/x.sock')).toBeUndefined();
    expect(parsePeer('localhost:443')).toBeUndefined();
    expect(parsePeer('ipv4:999.0.0.1:1')).toBeUndefined();
  });

  it('knows loopback and this host from elsewhere', () => {
    expect(isLocalAddress('127.0.0.1', [])).toBe(true);
    expect(isLocalAddress('127.8.9.10', [])).toBe(true);
    expect(isLocalAddress('::1', [])).toBe(true);
    expect(isLocalAddress('::ffff:127.0.0.1', [])).toBe(true);
    expect(isLocalAddress('10.1.2.3', ['10.1.2.3'])).toBe(true);
    expect(isLocalAddress('10.1.2.4', ['10.1.2.3', 'fe80::1%eth0'])).toBe(false);
  });

  it('expands IPv6 text to bytes', () => {
    expect(ipv6Bytes('::1').toString('hex')).toBe('00000000000000000000000000000001');
    expect(ipv6Bytes('2001:db8::8:800:200c:417a').toString('hex')).toBe('20010db80000000000080800200c417a');
    expect(ipv6Bytes('::ffff:1.2.3.4').toString('hex')).toBe('00000000000000000000ffff01020304');
    expect(ipv6Bytes('1.2.3.4').equals(ipv6Bytes('::ffff:1.2.3.4'))).toBe(true);
  });

  it.skipIf(os.endianness() !== 'LE')('finds a socket by its local end in /proc/net/tcp text', () => {
    expect(procNetHex('127.0.0.1', 4)).toBe('0100007F');
    expect(procNetHex('::1', 6)).toBe('00000000000000000000000001000000');
    const table = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1111 1 0000000000000000 100 0 0 10 0',
      '   1: 0100007F:D431 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 2222 1 0000000000000000 20 4 30 10 -1',
      '   2: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 3333 1 0000000000000000 20 4 30 10 -1',
    ].join('\n');
    expect(socketInodes(table, '0100007F', 0xd431)).toEqual(['2222']);
    expect(socketInodes(table, '0100007F', 0x1f90)).toEqual(['1111', '3333']);
  });
});
