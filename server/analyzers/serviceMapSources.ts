/**
 * Where service map entries come from:
 *
 * 1. A configuration document (YAML or JSON), validated with zod:
 *
 *        services:
 *          - name: redis.cache
 *            cidr: 10.96.0.0/12        # or: address: 10.96.12.7
 *            port: 6379                # or: port: "8000-8100"; omitted: any port
 *            protocol: tcp             # tcp | udp | sctp; omitted: any
 *            namespace: cache          # optional
 *
 *    `parseServiceMapConfig` takes the parsed document; `parseServiceMapConfigText` takes text:
 *    JSON is parsed here, YAML through the parser the caller passes (the project has the `yaml`
 *    package; the analyzers themselves depend only on zod). Errors name every bad field.
 *
 * 2. Kubernetes: the output of `kubectl get svc,endpointslices -A -o json` (a List of Service
 *    and EndpointSlice objects; other kinds are skipped and counted). A Service gives one entry
 *    per cluster IP (and external or load-balancer IP) and port; an EndpointSlice one entry per
 *    endpoint address and port (the pods behind the service, reached directly). All are named
 *    `<service>.<namespace>`. Headless services (clusterIP None) contribute only their
 *    endpoints; FQDN slices are skipped (they hold names, not addresses).
 */
import { z } from 'zod';
import { parseCidr, parseIp } from './ip';
import { createServiceMap, type ServiceMapEntry, type ServiceProtocol } from './serviceMap';

export class ServiceMapConfigError extends Error {
  override readonly name = 'ServiceMapConfigError';
  constructor(
    readonly issues: string[],
    what = 'service map config',
  ) {
    super(`${what} is invalid:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
  }
}

const portNumber = z.number().int().min(1).max(65535);
const portSpec = z.union([
  portNumber,
  z
    .string()
    .regex(/^\d{1,5}(-\d{1,5})?$/, 'must be a port ("6379") or a range ("8000-8100")')
    .refine((s) => s.split('-').every((p) => Number(p) >= 1 && Number(p) <= 65535), 'ports must be in 1-65535')
    .refine((s) => {
      const [a, b] = s.split('-').map(Number);
      return b === undefined || a! <= b;
    }, 'a range must run from low to high'),
]);

const configEntry = z
  .strictObject({
    name: z.string().min(1, 'must not be empty'),
    cidr: z.string().refine((s) => parseCidr(s) !== null, 'is not a valid CIDR block (e.g. 10.96.0.0/12, fd00::/8)').optional(),
    address: z.string().refine((s) => parseIp(s) !== null, 'is not a valid IPv4 or IPv6 address').optional(),
    port: portSpec.optional(),
    protocol: z.enum(['tcp', 'udp', 'sctp']).optional(),
    namespace: z.string().min(1).optional(),
  })
  .refine((e) => (e.cidr === undefined) !== (e.address === undefined), 'give exactly one of cidr or address');

const configDocument = z.strictObject({ services: z.array(configEntry) });

type ConfigEntry = z.infer<typeof configEntry>;

function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>((acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)), '');
}

function zodIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const where = formatPath(issue.path);
    return where ? `${where}: ${issue.message}` : issue.message;
  });
}

function toEntry(e: ConfigEntry): ServiceMapEntry {
  const entry: ServiceMapEntry = { name: e.name, source: 'config' };
  if (e.cidr !== undefined) entry.cidr = e.cidr;
  if (e.address !== undefined) entry.address = e.address;
  if (typeof e.port === 'number') entry.port = e.port;
  else if (typeof e.port === 'string') {
    const [from, to] = e.port.split('-').map(Number);
    if (to === undefined) entry.port = from!;
    else entry.portRange = { from: from!, to };
  }
  if (e.protocol) entry.protocol = e.protocol;
  if (e.namespace) entry.namespace = e.namespace;
  return entry;
}

/** Validates a parsed configuration document; throws ServiceMapConfigError listing every problem. */
export function parseServiceMapConfig(document: unknown): ServiceMapEntry[] {
  const parsed = configDocument.safeParse(document);
  if (!parsed.success) throw new ServiceMapConfigError(zodIssues(parsed.error));
  const entries = parsed.data.services.map(toEntry);
  createServiceMap(entries); // the same checks the map applies, so a document that loads also compiles
  return entries;
}

/**
 * Parses configuration text. JSON (text starting with "{") is parsed here; anything else needs
 * `parseYaml` (e.g. `parse` from the `yaml` package).
 */
export function parseServiceMapConfigText(text: string, parseYaml?: (text: string) => unknown): ServiceMapEntry[] {
  let document: unknown;
  try {
    if (text.trimStart().startsWith('{')) document = JSON.parse(text);
    else if (parseYaml) document = parseYaml(text);
    else throw new Error('the text is not JSON and no YAML parser was given');
  } catch (err) {
    throw new ServiceMapConfigError([`cannot parse the document: ${(err as Error).message}`]);
  }
  return parseServiceMapConfig(document);
}

// ---- Kubernetes -----------------------------------------------------------------------------

const metadata = z.object({
  name: z.string().min(1),
  namespace: z.string().min(1).default('default'),
  labels: z.record(z.string(), z.string()).nullish(),
});

const k8sProtocol = z.string().nullish();

const serviceObject = z.object({
  kind: z.literal('Service'),
  metadata,
  spec: z.object({
    clusterIP: z.string().nullish(),
    clusterIPs: z.array(z.string()).nullish(),
    externalIPs: z.array(z.string()).nullish(),
    ports: z.array(z.object({ port: portNumber, protocol: k8sProtocol, name: z.string().nullish() })).nullish(),
  }),
  status: z
    .object({ loadBalancer: z.object({ ingress: z.array(z.object({ ip: z.string().nullish() })).nullish() }).nullish() })
    .nullish(),
});

const endpointSliceObject = z.object({
  kind: z.literal('EndpointSlice'),
  metadata,
  addressType: z.string(),
  endpoints: z
    .array(
      z.object({
        addresses: z.array(z.string()),
        targetRef: z.object({ kind: z.string().nullish(), name: z.string().nullish() }).nullish(),
      }),
    )
    .nullish(),
  ports: z.array(z.object({ port: portNumber.nullish(), protocol: k8sProtocol, name: z.string().nullish() })).nullish(),
});

const listDocument = z.object({ items: z.array(z.unknown()) });

export interface KubernetesLoad {
  entries: ServiceMapEntry[];
  /** what was left out and why ("item 3: kind Pod is not a Service or EndpointSlice") */
  skipped: string[];
}

function protocolOf(p: string | null | undefined): ServiceProtocol | null {
  const lower = (p ?? 'TCP').toLowerCase();
  return lower === 'tcp' || lower === 'udp' || lower === 'sctp' ? lower : null;
}

function serviceEntries(svc: z.infer<typeof serviceObject>): ServiceMapEntry[] {
  const { name, namespace } = svc.metadata;
  const ips: Array<[string, string]> = [];
  const cluster = svc.spec.clusterIPs?.length ? svc.spec.clusterIPs : svc.spec.clusterIP ? [svc.spec.clusterIP] : [];
  for (const ip of cluster) if (ip !== 'None' && ip !== '') ips.push([ip, 'clusterIP']);
  for (const ip of svc.spec.externalIPs ?? []) ips.push([ip, 'external IP']);
  for (const ing of svc.status?.loadBalancer?.ingress ?? []) if (ing.ip) ips.push([ing.ip, 'load-balancer IP']);
  const ports = svc.spec.ports ?? [];
  const out: ServiceMapEntry[] = [];
  for (const [address, role] of ips) {
    if (!parseIp(address)) continue;
    const detail = `${role} of Service ${namespace}/${name}`;
    const base = { name: `${name}.${namespace}`, address, namespace, source: 'kubernetes' as const, detail };
    if (ports.length === 0) out.push(base);
    for (const p of ports) {
      const protocol = protocolOf(p.protocol);
      if (protocol) out.push({ ...base, port: p.port, protocol });
    }
  }
  return out;
}

function sliceEntries(slice: z.infer<typeof endpointSliceObject>, skipped: string[]): ServiceMapEntry[] {
  const { name: sliceName, namespace } = slice.metadata;
  if (slice.addressType !== 'IPv4' && slice.addressType !== 'IPv6') {
    skipped.push(`EndpointSlice ${namespace}/${sliceName}: address type ${slice.addressType} holds no addresses`);
    return [];
  }
  const service = slice.metadata.labels?.['kubernetes.io/service-name'] ?? sliceName;
  const out: ServiceMapEntry[] = [];
  for (const ep of slice.endpoints ?? []) {
    const pod = ep.targetRef?.name ? ` (${(ep.targetRef.kind ?? 'pod').toLowerCase()} ${ep.targetRef.name})` : '';
    for (const address of ep.addresses) {
      if (!parseIp(address)) continue;
      const base = {
        name: `${service}.${namespace}`,
        address,
        namespace,
        source: 'kubernetes' as const,
        detail: `endpoint of EndpointSlice ${namespace}/${sliceName}${pod}`,
      };
      const ports = slice.ports ?? [];
      if (ports.length === 0) out.push(base);
      for (const p of ports) {
        const protocol = protocolOf(p.protocol);
        // A slice port without a number means "all ports" (Kubernetes API reference).
        if (protocol) out.push(p.port ? { ...base, port: p.port, protocol } : { ...base, protocol });
      }
    }
  }
  return out;
}

/**
 * Entries from a Kubernetes List (`kubectl get svc,endpointslices -A -o json`); a bare array of
 * objects is accepted too. Throws ServiceMapConfigError when the document is not a list or when
 * a Service or EndpointSlice lacks what the mapping needs.
 */
export function serviceMapFromKubernetes(document: unknown): KubernetesLoad {
  const list = listDocument.safeParse(Array.isArray(document) ? { items: document } : document);
  if (!list.success) throw new ServiceMapConfigError(zodIssues(list.error), 'Kubernetes list');
  const entries: ServiceMapEntry[] = [];
  const skipped: string[] = [];
  const problems: string[] = [];
  list.data.items.forEach((item, i) => {
    const kind = (item as { kind?: unknown } | null)?.kind;
    const schema = kind === 'Service' ? serviceObject : kind === 'EndpointSlice' ? endpointSliceObject : null;
    if (!schema) {
      skipped.push(`item ${i}: kind ${String(kind)} is not a Service or EndpointSlice`);
      return;
    }
    const parsed = schema.safeParse(item);
    if (!parsed.success) {
      problems.push(...zodIssues(parsed.error).map((m) => `items[${i}] (${kind}): ${m}`));
      return;
    }
    if (parsed.data.kind === 'Service') entries.push(...serviceEntries(parsed.data));
    else entries.push(...sliceEntries(parsed.data, skipped));
  });
  if (problems.length > 0) throw new ServiceMapConfigError(problems, 'Kubernetes list');
  return { entries, skipped };
}
