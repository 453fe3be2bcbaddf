import YAML from 'yaml';
import { z } from 'zod';

/**
 * Kubescape ApplicationProfile import and export.
 *
 * Kubescape's node-agent learns, per workload and container, the syscalls, execs, opened files
 * and HTTP endpoints it sees (spdx.softwarecomposition.kubescape.io/v1beta1, kubescape/storage
 * pkg/apis/softwarecomposition/v1beta1). The cockpit learns the same entries plus two that
 * Kubescape's shape has no field for — io_uring opcodes and network peers (address:port) — and
 * carries those in one annotation so that an exported document stays a valid Kubescape profile.
 *
 * Round trips are lossless: fields the cockpit does not interpret (imageID, capabilities,
 * seccompProfile, identifiedCallStacks, annotations, …) are kept verbatim and written back.
 */

export const KUBESCAPE_API_VERSION = 'spdx.softwarecomposition.kubescape.io/v1beta1';
export const EXTENSIONS_ANNOTATION = 'soc-cockpit.io/extensions';

export interface ExecEntry {
  path: string;
  args: string[];
}

export interface OpenEntry {
  path: string;
  flags: string[];
}

export interface HttpEndpointEntry {
  endpoint: string;
  methods: string[];
  direction: string;
  internal: boolean;
}

export interface NetworkPeerEntry {
  address: string;
  port: number;
  protocol: string;
  direction: 'outbound' | 'inbound';
}

/** What one container of a workload is allowed to do (the entries a detector compares against). */
export interface ContainerProfile {
  name: string;
  syscalls: string[];
  execs: ExecEntry[];
  opens: OpenEntry[];
  endpoints: HttpEndpointEntry[];
  rulePolicies: Record<string, unknown>;
  /** Cockpit extensions (kept in the EXTENSIONS_ANNOTATION on export). */
  ioUringOps: string[];
  networkPeers: NetworkPeerEntry[];
  /** The container object as imported, for the fields the cockpit does not interpret. */
  raw: Record<string, unknown>;
}

export interface ApplicationProfileDocument {
  name: string;
  namespace: string;
  annotations: Record<string, string>;
  labels: Record<string, string>;
  containers: ContainerProfile[];
  initContainers: ContainerProfile[];
  ephemeralContainers: ContainerProfile[];
  /** The whole document as imported (metadata and spec fields kept verbatim on export). */
  raw: Record<string, unknown>;
}

export class ProfileFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProfileFormatError';
  }
}

const stringList = z.array(z.string()).nullish();
const execSchema = z.looseObject({ path: z.string(), args: stringList });
const openSchema = z.looseObject({ path: z.string(), flags: stringList });
const endpointSchema = z.looseObject({
  endpoint: z.string(),
  methods: stringList,
  direction: z.string().optional(),
  internal: z.boolean().optional(),
});
const containerSchema = z.looseObject({
  name: z.string().min(1),
  syscalls: stringList,
  execs: z.array(execSchema).nullish(),
  opens: z.array(openSchema).nullish(),
  endpoints: z.array(endpointSchema).nullish(),
  rulePolicies: z.record(z.string(), z.unknown()).nullish(),
});
const documentSchema = z.looseObject({
  apiVersion: z.string(),
  kind: z.string(),
  metadata: z.looseObject({
    name: z.string().min(1).max(253),
    namespace: z.string().max(253).optional(),
    annotations: z.record(z.string(), z.string()).nullish(),
    labels: z.record(z.string(), z.string()).nullish(),
  }),
  spec: z.looseObject({
    containers: z.array(containerSchema).nullish(),
    initContainers: z.array(containerSchema).nullish(),
    ephemeralContainers: z.array(containerSchema).nullish(),
  }),
});

const extensionsSchema = z.record(
  z.string(),
  z.object({
    ioUringOps: z.array(z.string()).default([]),
    networkPeers: z
      .array(
        z.object({
          address: z.string(),
          port: z.number().int().min(0).max(65535),
          protocol: z.string(),
          direction: z.enum(['outbound', 'inbound']),
        }),
      )
      .default([]),
  }),
);

/** Largest document accepted (a profile of a busy workload is tens of KiB). */
const MAX_DOCUMENT_BYTES = 4 * 1024 * 1024;

/** Parses an ApplicationProfile YAML document; a malformed one gets a ProfileFormatError saying why. */
export function parseApplicationProfile(yamlText: string): ApplicationProfileDocument {
  if (Buffer.byteLength(yamlText) > MAX_DOCUMENT_BYTES) {
    throw new ProfileFormatError(`profile too large: more than ${MAX_DOCUMENT_BYTES} bytes`);
  }
  let parsed: unknown;
  try {
    // maxAliasCount bounds alias expansion ("billion laughs"); uniqueKeys rejects ambiguous maps.
    parsed = YAML.parse(yamlText, { maxAliasCount: 100, uniqueKeys: true, prettyErrors: true });
  } catch (err) {
    throw new ProfileFormatError(`not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ProfileFormatError('not a Kubernetes object (expected a mapping with apiVersion, kind, metadata, spec)');
  }
  const head = parsed as { apiVersion?: unknown; kind?: unknown };
  if (head.apiVersion !== KUBESCAPE_API_VERSION) {
    throw new ProfileFormatError(`unknown apiVersion ${JSON.stringify(head.apiVersion)}: expected ${KUBESCAPE_API_VERSION}`);
  }
  if (head.kind !== 'ApplicationProfile') {
    throw new ProfileFormatError(`unknown kind ${JSON.stringify(head.kind)}: expected ApplicationProfile`);
  }
  const result = documentSchema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new ProfileFormatError(`invalid ApplicationProfile at ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const doc = result.data;
  const annotations = { ...(doc.metadata.annotations ?? {}) };
  const extensions = readExtensions(annotations[EXTENSIONS_ANNOTATION]);
  delete annotations[EXTENSIONS_ANNOTATION];
  const container = (c: z.infer<typeof containerSchema>): ContainerProfile => ({
    name: c.name,
    syscalls: [...(c.syscalls ?? [])],
    execs: (c.execs ?? []).map((e) => ({ path: e.path, args: [...(e.args ?? [])] })),
    opens: (c.opens ?? []).map((o) => ({ path: o.path, flags: [...(o.flags ?? [])] })),
    endpoints: (c.endpoints ?? []).map((e) => ({
      endpoint: e.endpoint,
      methods: [...(e.methods ?? [])],
      direction: e.direction ?? '',
      internal: e.internal ?? false,
    })),
    rulePolicies: { ...(c.rulePolicies ?? {}) },
    ioUringOps: extensions[c.name]?.ioUringOps ?? [],
    networkPeers: extensions[c.name]?.networkPeers ?? [],
    raw: c as Record<string, unknown>,
  });
  return {
    name: doc.metadata.name,
    namespace: doc.metadata.namespace ?? '',
    annotations,
    labels: { ...(doc.metadata.labels ?? {}) },
    containers: (doc.spec.containers ?? []).map(container),
    initContainers: (doc.spec.initContainers ?? []).map(container),
    ephemeralContainers: (doc.spec.ephemeralContainers ?? []).map(container),
    raw: parsed as Record<string, unknown>,
  };
}

function readExtensions(text: string | undefined): z.infer<typeof extensionsSchema> {
  if (!text) return {};
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ProfileFormatError(`annotation ${EXTENSIONS_ANNOTATION} is not JSON`);
  }
  const result = extensionsSchema.safeParse(json);
  if (!result.success) throw new ProfileFormatError(`annotation ${EXTENSIONS_ANNOTATION} is malformed: ${result.error.issues[0]!.message}`);
  return result.data;
}

/**
 * Writes a key back only when it carries something or was present in the imported object, so a
 * field the source left out (or set to null) round-trips as it was.
 */
function put(target: Record<string, unknown>, raw: Record<string, unknown>, key: string, value: unknown[] | Record<string, unknown>): void {
  const empty = Array.isArray(value) ? value.length === 0 : Object.keys(value).length === 0;
  if (empty && key in raw) target[key] = raw[key];
  else if (!empty) target[key] = value;
}

function containerToObject(c: ContainerProfile): Record<string, unknown> {
  const out: Record<string, unknown> = { ...c.raw, name: c.name };
  put(out, c.raw, 'execs', c.execs.map((e) => ({ path: e.path, args: e.args })));
  put(out, c.raw, 'opens', c.opens.map((o) => ({ path: o.path, flags: o.flags })));
  put(out, c.raw, 'syscalls', c.syscalls);
  put(
    out,
    c.raw,
    'endpoints',
    c.endpoints.map((e) => ({ endpoint: e.endpoint, methods: e.methods, direction: e.direction, internal: e.internal })),
  );
  put(out, c.raw, 'rulePolicies', c.rulePolicies);
  return out;
}

/** The document as a plain object (what is serialised). */
export function applicationProfileToObject(doc: ApplicationProfileDocument): Record<string, unknown> {
  const raw = doc.raw;
  const rawMetadata = (raw.metadata ?? {}) as Record<string, unknown>;
  const rawSpec = (raw.spec ?? {}) as Record<string, unknown>;
  const annotations: Record<string, string> = { ...doc.annotations };
  const extensions: z.input<typeof extensionsSchema> = {};
  for (const c of [...doc.containers, ...doc.initContainers, ...doc.ephemeralContainers]) {
    if (c.ioUringOps.length > 0 || c.networkPeers.length > 0) {
      extensions[c.name] = { ioUringOps: c.ioUringOps, networkPeers: c.networkPeers };
    }
  }
  if (Object.keys(extensions).length > 0) annotations[EXTENSIONS_ANNOTATION] = JSON.stringify(extensions);
  const metadata: Record<string, unknown> = { ...rawMetadata, name: doc.name };
  if (doc.namespace || 'namespace' in rawMetadata) metadata.namespace = doc.namespace;
  put(metadata, rawMetadata, 'annotations', annotations);
  put(metadata, rawMetadata, 'labels', doc.labels);
  const spec: Record<string, unknown> = { ...rawSpec };
  spec.containers = doc.containers.map(containerToObject);
  put(spec, rawSpec, 'initContainers', doc.initContainers.map(containerToObject));
  put(spec, rawSpec, 'ephemeralContainers', doc.ephemeralContainers.map(containerToObject));
  return { ...raw, apiVersion: KUBESCAPE_API_VERSION, kind: 'ApplicationProfile', metadata, spec };
}

export function serializeApplicationProfile(doc: ApplicationProfileDocument): string {
  return YAML.stringify(applicationProfileToObject(doc), { lineWidth: 0 });
}
