/**
 * Service map: which internal service a destination (address, port, protocol) belongs to.
 *
 * Entries come from the operator's configuration or from Kubernetes (Services and
 * EndpointSlices, see `serviceMapSources.ts`). The most specific entry wins:
 *   1. the longest prefix (a /32 clusterIP beats the /12 service range),
 *   2. then the port: an exact port beats a range (a narrower range beats a wider one), which
 *      beats an entry for any port,
 *   3. then an entry that names the protocol beats one that does not,
 *   4. then configuration beats Kubernetes (an operator's entry is a deliberate override),
 *   5. then the earlier entry.
 * Every answer carries a reason an analyst can check; a destination no entry covers comes back
 * with what *nearly* matched (the address on another port, entries in the same /24 or /64) and
 * the address's scope (private, public, ...), which is what makes an unknown internal
 * destination stand out.
 *
 * Limits: names come only from the map (no DNS); a Kubernetes Service reached through a node
 * port or a load balancer's address matches only if that address is in the map.
 */
import {
  addressScope,
  cidrContains,
  cidrsOverlap,
  formatCidr,
  formatEndpoint,
  networkOf,
  parseCidr,
  parseIp,
  type AddressScope,
  type Cidr,
} from './ip';
import type { Transport } from './types';

export type ServiceSource = 'config' | 'kubernetes';
export type ServiceProtocol = Transport | 'sctp';

export interface PortRange {
  from: number;
  to: number;
}

export interface ServiceMapEntry {
  /** the service's name as analysts know it ("redis.cache"; Kubernetes: "<service>.<namespace>") */
  name: string;
  /** a block ("10.96.0.0/12") — give this or `address` */
  cidr?: string;
  /** one address — give this or `cidr` */
  address?: string;
  /** one port; with neither `port` nor `portRange`, any port */
  port?: number;
  portRange?: PortRange;
  /** with none, any protocol */
  protocol?: ServiceProtocol;
  namespace?: string;
  source: ServiceSource;
  /** where the entry came from, for the reason ("clusterIP of Service cache/redis") */
  detail?: string;
}

export interface Destination {
  address: string;
  port: number;
  protocol: Transport;
}

export type PortMatch = 'exact' | 'range' | 'any';

export interface ServiceMatch {
  name: string;
  namespace?: string;
  entry: ServiceMapEntry;
  /** prefix length of the entry's block */
  prefix: number;
  port: PortMatch;
}

export interface ServiceLookup {
  destination: Destination;
  /** "10.96.12.7:6379" */
  endpoint: string;
  match: ServiceMatch | null;
  /** where the address lives (null when the address does not parse) */
  scope: AddressScope | null;
  reason: string;
}

export class ServiceMapError extends Error {
  override readonly name = 'ServiceMapError';
}

interface CompiledEntry {
  entry: ServiceMapEntry;
  cidr: Cidr;
  index: number;
}

function compileEntry(entry: ServiceMapEntry, index: number): CompiledEntry {
  const where = `service map entry ${index} (${JSON.stringify(entry.name)})`;
  if (!entry.name) throw new ServiceMapError(`${where}: a name is required`);
  if ((entry.cidr === undefined) === (entry.address === undefined)) {
    throw new ServiceMapError(`${where}: give exactly one of cidr or address`);
  }
  const cidr = entry.cidr !== undefined ? parseCidr(entry.cidr) : addressBlock(entry.address!);
  if (!cidr) throw new ServiceMapError(`${where}: ${JSON.stringify(entry.cidr ?? entry.address)} is not a valid ${entry.cidr !== undefined ? 'CIDR' : 'address'}`);
  if (entry.port !== undefined && !validPort(entry.port)) throw new ServiceMapError(`${where}: port ${entry.port} is not in 1-65535`);
  if (entry.portRange && !(validPort(entry.portRange.from) && validPort(entry.portRange.to) && entry.portRange.from <= entry.portRange.to)) {
    throw new ServiceMapError(`${where}: port range ${entry.portRange.from}-${entry.portRange.to} is not a range within 1-65535`);
  }
  if (entry.port !== undefined && entry.portRange) throw new ServiceMapError(`${where}: give port or portRange, not both`);
  return { entry, cidr, index };
}

function addressBlock(address: string): Cidr | null {
  const ip = parseIp(address);
  return ip ? { family: ip.family, base: ip.value, prefix: ip.family === 4 ? 32 : 128 } : null;
}

function validPort(p: number): boolean {
  return Number.isInteger(p) && p >= 1 && p <= 65535;
}

function portMatch(entry: ServiceMapEntry, port: number): PortMatch | null {
  if (entry.port !== undefined) return entry.port === port ? 'exact' : null;
  if (entry.portRange) return port >= entry.portRange.from && port <= entry.portRange.to ? 'range' : null;
  return 'any';
}

const PORT_RANK: Record<PortMatch, number> = { exact: 2, range: 1, any: 0 };

/** Negative when `a` is more specific than `b` (sort order: best first). */
function compareSpecificity(a: CompiledEntry, b: CompiledEntry, port: number): number {
  if (a.cidr.prefix !== b.cidr.prefix) return b.cidr.prefix - a.cidr.prefix;
  const pa = portMatch(a.entry, port)!;
  const pb = portMatch(b.entry, port)!;
  if (pa !== pb) return PORT_RANK[pb] - PORT_RANK[pa];
  if (pa === 'range') {
    const wa = a.entry.portRange!.to - a.entry.portRange!.from;
    const wb = b.entry.portRange!.to - b.entry.portRange!.from;
    if (wa !== wb) return wa - wb;
  }
  const protoA = a.entry.protocol ? 1 : 0;
  const protoB = b.entry.protocol ? 1 : 0;
  if (protoA !== protoB) return protoB - protoA;
  if (a.entry.source !== b.entry.source) return a.entry.source === 'config' ? -1 : 1;
  return a.index - b.index;
}

/** "port 6379", "port 6379/tcp", "ports 8000-8100", "any port". */
export function describePorts(entry: ServiceMapEntry): string {
  const proto = entry.protocol ? `/${entry.protocol}` : '';
  if (entry.port !== undefined) return `port ${entry.port}${proto}`;
  if (entry.portRange) return `ports ${entry.portRange.from}-${entry.portRange.to}${proto}`;
  return entry.protocol ? `any ${entry.protocol} port` : 'any port';
}

function describeSource(entry: ServiceMapEntry): string {
  return entry.detail ? `from ${entry.source}: ${entry.detail}` : `from ${entry.source}`;
}

function describeBlock(c: CompiledEntry): string {
  return c.entry.cidr !== undefined ? formatCidr(c.cidr) : `address ${c.entry.address}`;
}

export interface ServiceMap {
  readonly entries: readonly ServiceMapEntry[];
  lookup(destination: Destination): ServiceLookup;
}

/** Builds a map; throws ServiceMapError naming the first invalid entry. */
export function createServiceMap(entries: readonly ServiceMapEntry[]): ServiceMap {
  const compiled = entries.map(compileEntry);
  return {
    entries,
    lookup: (destination) => lookup(compiled, destination),
  };
}

function lookup(compiled: readonly CompiledEntry[], destination: Destination): ServiceLookup {
  const endpoint = formatEndpoint(destination.address, destination.port);
  const ip = parseIp(destination.address);
  if (!ip) {
    return { destination, endpoint, match: null, scope: null, reason: `${destination.address} is not an IP address; no entry can match it` };
  }
  const covering = compiled.filter((c) => cidrContains(c.cidr, ip));
  const matching = covering.filter(
    (c) => portMatch(c.entry, destination.port) !== null && (!c.entry.protocol || c.entry.protocol === destination.protocol),
  );
  const scope = addressScope(ip);
  if (matching.length === 0) {
    return { destination, endpoint, match: null, scope, reason: unknownReason(compiled, covering, destination, endpoint, ip, scope) };
  }
  const best = [...matching].sort((a, b) => compareSpecificity(a, b, destination.port))[0]!;
  const match: ServiceMatch = {
    name: best.entry.name,
    namespace: best.entry.namespace,
    entry: best.entry,
    prefix: best.cidr.prefix,
    port: portMatch(best.entry, destination.port)!,
  };
  const reason = `${endpoint} matched ${best.entry.name} (${describeBlock(best)}, ${describePorts(best.entry)}, ${describeSource(best.entry)})`;
  return { destination, endpoint, match, scope, reason };
}

function unknownReason(
  compiled: readonly CompiledEntry[],
  covering: readonly CompiledEntry[],
  destination: Destination,
  endpoint: string,
  ip: NonNullable<ReturnType<typeof parseIp>>,
  scope: AddressScope,
): string {
  const head = `no entry for ${endpoint}${destination.protocol === 'udp' ? '/udp' : ''}`;
  if (covering.length > 0) {
    // The address is known, the port is not: the likeliest sign of a service used off its ports.
    const names = [...new Set(covering.map((c) => `${c.entry.name} (${describePorts(c.entry)})`))];
    const shown = names.slice(0, 3).join(', ') + (names.length > 3 ? `, and ${names.length - 3} more` : '');
    return `${head}; ${destination.address} is covered by ${shown}, but not on port ${destination.port}/${destination.protocol}`;
  }
  const netPrefix = ip.family === 4 ? 24 : 64;
  const net = networkOf(ip, netPrefix);
  const near = compiled.filter((c) => cidrsOverlap(c.cidr, net)).length;
  if (near > 0) {
    return `${head}; ${near} ${near === 1 ? 'entry covers' : 'entries cover'} this /${netPrefix} (${formatCidr(net)}); a ${scope} address`;
  }
  return `${head}; no entry covers this /${netPrefix} (${formatCidr(net)}) either; a ${scope} address`;
}
