/**
 * Which local process is at the other end of a TCP connection: given a gRPC peer string
 * (`127.0.0.1:54321`, `[::1]:54321`, or gRPC core's `ipv4:…` / `ipv6:[…]:…`), find the process on this host that owns the
 * client socket, so the sensor can mark the cockpit's process as its own when the cockpit runs
 * on the same node (its activity must never raise indicators).
 *
 * How: the client socket's *local* end is the peer address the server sees. /proc/net/tcp{,6}
 * map that address to the socket's inode; /proc/PID/fd links name the processes holding
 * `socket:[inode]`. Limits: /proc/net is the caller's network namespace (a cockpit in another
 * namespace is reached through an address that is not its socket's, and is not found); a
 * process that does not let us read its fds (no root) is not seen; unix-socket peers are not
 * resolved.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';

export interface PeerAddress {
  family: 4 | 6;
  /** as in the peer string (IPv6 without brackets) */
  address: string;
  port: number;
}

export interface PeerProcess {
  /** the first process found holding the socket */
  pid: number;
  /** every process holding it (a forked child shares its parent's sockets) */
  pids: number[];
  /** the socket's inode */
  inode: string;
}

export interface FindPeerOptions {
  /** default /proc */
  procRoot?: string;
  /** addresses of this host (default: os.networkInterfaces()) */
  localAddresses?: string[];
}

/**
 * A gRPC peer string: `ipv4:A.B.C.D:PORT` / `ipv6:[ADDR]:PORT` (gRPC core's format) or
 * `A.B.C.D:PORT` / `[ADDR]:PORT` (what @grpc/grpc-js's `call.getPeer()` returns); undefined for
 * anything else (unix sockets, names).
 */
export function parsePeer(peer: string): PeerAddress | undefined {
  let m = /^(?:ipv4:)?(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(peer);
  if (m && net.isIPv4(m[1]!)) return { family: 4, address: m[1]!, port: Number(m[2]) };
  m = /^(?:ipv6:)?\[([0-9a-fA-F:.%a-zA-Z0-9]+)\]:(\d{1,5})$/.exec(peer);
  if (m && net.isIPv6(m[1]!.replace(/%.*$/, ''))) return { family: 6, address: m[1]!.replace(/%.*$/, ''), port: Number(m[2]) };
  return undefined;
}

/** The 16 bytes of an IPv6 address (IPv4 given as IPv4-mapped). */
export function ipv6Bytes(address: string): Buffer {
  if (net.isIPv4(address)) return Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...address.split('.').map(Number)]);
  let text = address;
  const out = Buffer.alloc(16);
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const b = v4[1]!.split('.').map(Number);
    text = text.slice(0, -v4[1]!.length) + `${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g || '0', 16), i * 2));
  return out;
}

/** IPv4-mapped IPv6 (::ffff:a.b.c.d) -> a.b.c.d; anything else unchanged. */
function unmapped(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m ? m[1]! : address;
}

/** Is `address` this host's (loopback or an interface address)? */
export function isLocalAddress(address: string, localAddresses?: string[]): boolean {
  const a = unmapped(address);
  if (net.isIPv4(a) && a.startsWith('127.')) return true;
  if (net.isIPv6(a) && ipv6Bytes(a).equals(ipv6Bytes('::1'))) return true;
  const locals =
    localAddresses ??
    Object.values(os.networkInterfaces())
      .flat()
      .map((i) => i?.address ?? '');
  const bytes = ipv6Bytes(a);
  return locals.some((l) => l && (net.isIP(l.replace(/%.*$/, '')) !== 0) && ipv6Bytes(l.replace(/%.*$/, '')).equals(bytes));
}

/**
 * The hex form /proc/net/tcp{,6} prints an address in: each 32-bit word as the kernel holds it
 * (network byte order in memory), printed as a host-order integer.
 */
export function procNetHex(address: string, family: 4 | 6): string {
  const bytes = family === 4 ? Buffer.from(address.split('.').map(Number)) : ipv6Bytes(address);
  const little = os.endianness() === 'LE';
  let hex = '';
  for (let i = 0; i < bytes.length; i += 4) {
    const word = little ? bytes.readUInt32LE(i) : bytes.readUInt32BE(i);
    hex += word.toString(16).toUpperCase().padStart(8, '0');
  }
  return hex;
}

/** Inodes of sockets in a /proc/net/tcp{,6} text whose local end is hexAddr:port. */
export function socketInodes(table: string, hexAddr: string, port: number): string[] {
  const local = `${hexAddr}:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const inodes: string[] = [];
  for (const line of table.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
    if (f.length < 10 || f[1] !== local) continue;
    if (f[9] !== '0') inodes.push(f[9]!);
  }
  return inodes;
}

/** Processes holding any of `inodes` (by /proc/PID/fd links). */
export function processesHolding(inodes: readonly string[], procRoot = '/proc'): Map<string, number[]> {
  const wanted = new Map(inodes.map((i) => [`socket:[${i}]`, i]));
  const found = new Map<string, number[]>();
  if (wanted.size === 0) return found;
  for (const name of readdirSync(procRoot)) {
    if (!/^\d+$/.test(name)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`${procRoot}/${name}/fd`);
    } catch {
      continue; // gone, or not ours to read
    }
    for (const fd of fds) {
      let link: string;
      try {
        link = readlinkSync(`${procRoot}/${name}/fd/${fd}`);
      } catch {
        continue;
      }
      const inode = wanted.get(link);
      if (!inode) continue;
      const list = found.get(inode) ?? [];
      if (!list.includes(Number(name))) list.push(Number(name));
      found.set(inode, list);
    }
  }
  return found;
}

/**
 * The local process owning the client end of the TCP connection a gRPC server sees as `peer`,
 * or null when the peer is remote (not one of this host's addresses), not TCP, or not found.
 */
export function findPeerProcess(peer: string, options: FindPeerOptions = {}): PeerProcess | null {
  const parsed = parsePeer(peer);
  if (!parsed || !isLocalAddress(parsed.address, options.localAddresses)) return null;
  const procRoot = options.procRoot ?? '/proc';
  const read = (file: string) => {
    try {
      return readFileSync(`${procRoot}/net/${file}`, 'utf8');
    } catch {
      return '';
    }
  };
  const inodes: string[] = [];
  const v4 = unmapped(parsed.address);
  // An IPv4 client of a dual-stack server appears as ::ffff:a.b.c.d to the server but sits in
  // /proc/net/tcp; an IPv6 socket talking IPv4 sits in tcp6 with the mapped form.
  if (net.isIPv4(v4)) inodes.push(...socketInodes(read('tcp'), procNetHex(v4, 4), parsed.port));
  inodes.push(...socketInodes(read('tcp6'), procNetHex(parsed.address, 6), parsed.port));
  if (inodes.length === 0) return null;
  const holders = processesHolding(inodes, procRoot);
  for (const inode of inodes) {
    const pids = holders.get(inode);
    if (pids && pids.length > 0) return { pid: pids[0]!, pids, inode };
  }
  return null;
}
