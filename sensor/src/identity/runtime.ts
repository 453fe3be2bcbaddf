/**
 * What a container runtime recorded about a container, read from its state on this node: the
 * Kubernetes pod name, namespace and container name (CRI annotations the kubelet passes to the
 * runtime), or a plain container's name. The cgroup path gives only ids (container.ts).
 *
 * Where each runtime keeps it:
 *   containerd  /run/containerd/io.containerd.runtime.v2.task/<namespace>/<id>/config.json
 *               (the OCI bundle; annotations io.kubernetes.cri.sandbox-name, …-sandbox-namespace,
 *               …container-name; namespace k8s.io for Kubernetes, moby for docker)
 *   CRI-O       /run/containers/storage/overlay-containers/<id>/userdata/config.json
 *               (annotations io.kubernetes.pod.name, io.kubernetes.pod.namespace,
 *               io.kubernetes.container.name; podman keeps its containers there too)
 *   docker      /var/lib/docker/containers/<id>/config.v2.json (`Name`; cri-dockerd puts the
 *               io.kubernetes.* names in Config.Labels)
 *
 * Results are cached per container id; a miss is retried after `missRetryMs` (the bundle can
 * appear just after the first process of a container is seen). Files larger than 1 MiB are not
 * read. Everything is optional: without the files the key falls back to ids (workload.ts).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { ContainerMetadata } from './workload';

const MAX_FILE_BYTES = 1 << 20;
const ID = /^[0-9a-zA-Z_.-]{1,128}$/;

export interface RuntimeStateOptions {
  /** Prefix of every path read (tests point it at a fixture tree); default "" (the host). */
  root?: string;
  /** Retry a container whose state was not found after this long (default 5 s). */
  missRetryMs?: number;
  /** At most this many containers are cached (default 4096). */
  maxEntries?: number;
  now?: () => number;
}

/** Annotations of an OCI config.json (or labels of a docker config), as strings. */
function stringMap(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!value || typeof value !== 'object' || Array.isArray(value)) return out;
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) if (typeof v === 'string') out[k] = v;
  return out;
}

/** Kubernetes names from CRI annotations (containerd's and CRI-O's/dockershim's spellings). */
export function metadataFromAnnotations(annotations: Record<string, string>): ContainerMetadata | null {
  const podName = annotations['io.kubernetes.cri.sandbox-name'] ?? annotations['io.kubernetes.pod.name'];
  const podNamespace = annotations['io.kubernetes.cri.sandbox-namespace'] ?? annotations['io.kubernetes.pod.namespace'];
  let containerName = annotations['io.kubernetes.cri.container-name'] ?? annotations['io.kubernetes.container.name'];
  const type = annotations['io.kubernetes.cri.container-type'] ?? annotations['io.kubernetes.cri-o.ContainerType'] ?? annotations['io.kubernetes.docker.type'];
  if (!containerName && (type === 'sandbox' || type === 'podsandbox')) containerName = 'POD';
  if (!podName || !podNamespace) return null;
  return { podName, podNamespace, containerName: containerName ?? '' };
}

export class RuntimeState {
  private readonly root: string;
  private readonly missRetryMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;
  private readonly cache = new Map<string, { metadata: ContainerMetadata | null; at: number }>();

  constructor(options: RuntimeStateOptions = {}) {
    this.root = options.root ?? '';
    this.missRetryMs = options.missRetryMs ?? 5000;
    this.maxEntries = options.maxEntries ?? 4096;
    this.now = options.now ?? Date.now;
  }

  /** What the runtime recorded about container `containerId`, or null when nothing is found. */
  lookup(runtime: string, containerId: string): ContainerMetadata | null {
    if (!ID.test(containerId)) return null;
    const cached = this.cache.get(containerId);
    if (cached && (cached.metadata || this.now() - cached.at < this.missRetryMs)) return cached.metadata;
    const metadata = this.read(runtime, containerId);
    if (this.cache.size >= this.maxEntries) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(containerId, { metadata, at: this.now() });
    return metadata;
  }

  private read(runtime: string, id: string): ContainerMetadata | null {
    const readers = { containerd: () => this.containerd(id), crio: () => this.crio(id), docker: () => this.docker(id) };
    // The runtime the cgroup names first; then the others (cgroupfs paths name none).
    const order: Array<keyof typeof readers> =
      runtime === 'docker' ? ['docker', 'containerd', 'crio'] : runtime === 'cri-o' || runtime === 'podman' ? ['crio', 'containerd', 'docker'] : ['containerd', 'crio', 'docker'];
    for (const name of order) {
      const found = readers[name]();
      if (found) return found;
    }
    return null;
  }

  private json(file: string): Record<string, unknown> | null {
    try {
      const full = path.join(this.root, file);
      if (statSync(full).size > MAX_FILE_BYTES) return null;
      const value: unknown = JSON.parse(readFileSync(full, 'utf8'));
      return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
    } catch {
      return null;
    }
  }

  private containerd(id: string): ContainerMetadata | null {
    const base = '/run/containerd/io.containerd.runtime.v2.task';
    let namespaces: string[];
    try {
      namespaces = readdirSync(path.join(this.root, base));
    } catch {
      return null;
    }
    // k8s.io first: Kubernetes' namespace.
    namespaces.sort((a, b) => (a === 'k8s.io' ? -1 : b === 'k8s.io' ? 1 : a.localeCompare(b)));
    for (const ns of namespaces) {
      const config = this.json(`${base}/${ns}/${id}/config.json`);
      if (!config) continue;
      const annotations = stringMap(config.annotations);
      return metadataFromAnnotations(annotations) ?? (annotations['nerdctl/name'] ? { name: annotations['nerdctl/name'] } : null);
    }
    return null;
  }

  private crio(id: string): ContainerMetadata | null {
    const config = this.json(`/run/containers/storage/overlay-containers/${id}/userdata/config.json`);
    return config ? metadataFromAnnotations(stringMap(config.annotations)) : null;
  }

  private docker(id: string): ContainerMetadata | null {
    const config = this.json(`/var/lib/docker/containers/${id}/config.v2.json`);
    if (!config) return null;
    const inner = config.Config && typeof config.Config === 'object' ? (config.Config as Record<string, unknown>) : {};
    const k8s = metadataFromAnnotations(stringMap(inner.Labels));
    if (k8s) return k8s;
    return typeof config.Name === 'string' && config.Name ? { name: config.Name.replace(/^\/+/, '') } : null;
  }
}
