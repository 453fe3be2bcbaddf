/**
 * IPv4 and IPv6 addresses and CIDR blocks, as 32- and 128-bit integers (bigint), written here
 * rather than taken from a dependency: the analyzers need parsing, containment, overlap and the
 * address's scope, nothing more.
 *
 * Accepted text: dotted-quad IPv4 (no leading zeros: "010.1.1.1" is ambiguous, octal in some
 * parsers, and refused); IPv6 with "::" compression, an embedded dotted IPv4 tail and an
 * optional zone ("fe80::1%eth0", the zone is dropped). An IPv4-mapped IPv6 address
 * (::ffff:10.1.2.3, what a dual-stack socket reports for an IPv4 peer) is returned as IPv4, so
 * it matches IPv4 entries.
 */

export interface IpAddress {
  family: 4 | 6;
  value: bigint;
}

export interface Cidr {
  family: 4 | 6;
  /** the network address (host bits cleared) */
  base: bigint;
  prefix: number;
}

const BITS = { 4: 32, 6: 128 } as const;
const MAPPED_V4_PREFIX = 0xffffn << 32n;

function parseIpv4(text: string): bigint | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let value = 0n;
  for (const part of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(part)) return null;
    const n = Number(part);
    if (n > 255) return null;
    value = (value << 8n) | BigInt(n);
  }
  return value;
}

function parseGroups(text: string): bigint[] | null {
  if (text === '') return [];
  const out: bigint[] = [];
  const parts = text.split(':');
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (i === parts.length - 1 && part.includes('.')) {
      const v4 = parseIpv4(part);
      if (v4 === null) return null;
      out.push(v4 >> 16n, v4 & 0xffffn);
    } else if (/^[0-9a-fA-F]{1,4}$/.test(part)) {
      out.push(BigInt(`0x${part}`));
    } else {
      return null;
    }
  }
  return out;
}

function parseIpv6(text: string): bigint | null {
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = parseGroups(halves[0]!);
  const tail = halves.length === 2 ? parseGroups(halves[1]!) : [];
  if (!head || !tail) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const groups = [...head, ...Array<bigint>(missing).fill(0n), ...tail];
  return groups.reduce((acc, g) => (acc << 16n) | g, 0n);
}

/** Parses an address; null when it is not one. IPv4-mapped IPv6 comes back as IPv4. */
export function parseIp(text: string): IpAddress | null {
  const t = text.trim();
  if (t.includes(':')) {
    const bare = t.startsWith('[') && t.endsWith(']') ? t.slice(1, -1) : t;
    const value = parseIpv6(bare.split('%')[0]!);
    if (value === null) return null;
    if (value >> 32n === 0xffffn) return { family: 4, value: value & 0xffffffffn };
    return { family: 6, value };
  }
  const v4 = parseIpv4(t);
  return v4 === null ? null : { family: 4, value: v4 };
}

/** RFC 5952 text for IPv6 (longest run of zero groups compressed, lower case). */
export function formatIp(ip: IpAddress): string {
  if (ip.family === 4) {
    return [24n, 16n, 8n, 0n].map((s) => ((ip.value >> s) & 0xffn).toString()).join('.');
  }
  const groups = Array.from({ length: 8 }, (_, i) => Number((ip.value >> BigInt((7 - i) * 16)) & 0xffffn));
  let best = { at: -1, len: 0 };
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.len && j - i >= 2) best = { at: i, len: j - i };
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best.at < 0) return hex.join(':');
  return `${hex.slice(0, best.at).join(':')}::${hex.slice(best.at + best.len).join(':')}`;
}

function mask(family: 4 | 6, prefix: number): bigint {
  const bits = BITS[family];
  return prefix === 0 ? 0n : ((1n << BigInt(prefix)) - 1n) << BigInt(bits - prefix);
}

/**
 * Parses "10.96.0.0/12", "fd00::/8", or a bare address (a /32 or /128). Host bits set below the
 * prefix ("10.96.12.7/12") are cleared, as the kernel and Kubernetes do. An IPv4-mapped IPv6
 * block (::ffff:10.0.0.0/104) becomes the IPv4 block it denotes.
 */
export function parseCidr(text: string): Cidr | null {
  const [addr, len, ...rest] = text.trim().split('/');
  if (rest.length > 0 || addr === undefined) return null;
  const ip = parseIp(addr);
  if (!ip) return null;
  const mappedV6 = ip.family === 4 && addr.includes(':');
  let prefix = BITS[ip.family];
  if (len !== undefined) {
    if (!/^\d{1,3}$/.test(len)) return null;
    prefix = Number(len) - (mappedV6 ? 96 : 0);
    if (prefix < 0 || prefix > BITS[ip.family]) return null;
  }
  return { family: ip.family, base: ip.value & mask(ip.family, prefix), prefix };
}

export function formatCidr(c: Cidr): string {
  return `${formatIp({ family: c.family, value: c.base })}/${c.prefix}`;
}

export function cidrContains(c: Cidr, ip: IpAddress): boolean {
  return c.family === ip.family && (ip.value & mask(c.family, c.prefix)) === c.base;
}

/** Whether two blocks share at least one address (one contains the other). */
export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  if (a.family !== b.family) return false;
  const m = mask(a.family, Math.min(a.prefix, b.prefix));
  return (a.base & m) === (b.base & m);
}

/** The block of `prefix` bits around an address (its /24, its /64). */
export function networkOf(ip: IpAddress, prefix: number): Cidr {
  return { family: ip.family, base: ip.value & mask(ip.family, prefix), prefix };
}

export type AddressScope =
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'shared'
  | 'link_local'
  | 'multicast'
  | 'documentation'
  | 'reserved'
  | 'public';

const SCOPES: ReadonlyArray<[string, AddressScope]> = [
  ['0.0.0.0/8', 'unspecified'],
  ['127.0.0.0/8', 'loopback'],
  ['10.0.0.0/8', 'private'],
  ['172.16.0.0/12', 'private'],
  ['192.168.0.0/16', 'private'],
  ['100.64.0.0/10', 'shared'],
  ['169.254.0.0/16', 'link_local'],
  ['224.0.0.0/4', 'multicast'],
  ['192.0.2.0/24', 'documentation'],
  ['198.51.100.0/24', 'documentation'],
  ['203.0.113.0/24', 'documentation'],
  ['240.0.0.0/4', 'reserved'],
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
  ['fc00::/7', 'private'],
  ['fe80::/10', 'link_local'],
  ['ff00::/8', 'multicast'],
  ['2001:db8::/32', 'documentation'],
];
const SCOPE_BLOCKS = SCOPES.map(([text, scope]) => ({ cidr: parseCidr(text)!, scope }));

/** Where an address lives: private (RFC 1918 / ULA), shared (CGNAT), public, ... */
export function addressScope(ip: IpAddress): AddressScope {
  return SCOPE_BLOCKS.find((b) => cidrContains(b.cidr, ip))?.scope ?? 'public';
}

/** Scopes that belong to "inside the network" for an analyst. */
export function isInternalScope(scope: AddressScope): boolean {
  return scope === 'private' || scope === 'shared' || scope === 'link_local' || scope === 'loopback';
}

/**
 * Endpoints formatted lately: an analysis formats the same few destinations for every one of up to
 * a zoom's budget of events (parsing the address each time was ~45 ms of a 40 000-row analysis).
 * Bounded: cleared when full.
 */
const endpointTexts = new Map<string, string>();
const ENDPOINT_CACHE_SIZE = 4096;

/** "10.0.0.1:443", "[fd00::1]:443" (the address as given when it does not parse). */
export function formatEndpoint(address: string, port: number): string {
  const raw = `${address}\u0000${port}`;
  const known = endpointTexts.get(raw);
  if (known !== undefined) return known;
  const ip = parseIp(address);
  const text = ip ? formatIp(ip) : address;
  const endpoint = ip?.family === 6 ? `[${text}]:${port}` : `${text}:${port}`;
  if (endpointTexts.size >= ENDPOINT_CACHE_SIZE) endpointTexts.clear();
  endpointTexts.set(raw, endpoint);
  return endpoint;
}
