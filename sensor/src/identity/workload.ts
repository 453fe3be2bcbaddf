/**
 * Workload identity: what a process image belongs to for baselines. Computed once, in the sensor,
 * from the cgroup path, the container identity the path gives (container.ts), what the container
 * runtime recorded about the container (runtime.ts) and the executable path. Pure functions.
 *
 * Keys (stable across replicas and restarts wherever the inputs allow it):
 *
 * | where the process runs                          | key                                      |
 * | ----------------------------------------------- | ---------------------------------------- |
 * | a Kubernetes container, runtime state readable   | `k8s/<namespace>/<workload>/<container>` |
 * | a Kubernetes container, names unknown            | `k8s-pod/<pod uid>/<container id 12>`    |
 * | a pod cgroup without a container below it        | `k8s-pod/<pod uid>/pod`                  |
 * | a container outside Kubernetes                   | `container/<runtime>/<name or id 12>`    |
 * | a systemd unit below a slice (system.slice, …)   | `systemd/<unit>`                         |
 * | any other cgroup (tests make their own)          | `cgroup/<path without the leading '/'>`  |
 * | the root cgroup, user sessions and user managers | `host/<executable without leading '/'>`  |
 *
 * User sessions (`session-N.scope`) and user managers (`user@N.service` and everything below) are
 * not workloads: what a person runs in a shell has no stable behaviour to learn, so such
 * processes are keyed by their executable, like processes in the root cgroup. Containers below a
 * user manager (rootless podman/docker) are containers.
 *
 * The Kubernetes workload name is not in the cgroup path, nor in the runtime's state: the pod
 * name is. Controllers name pods after themselves, so the owner is derived from the pod name —
 * a heuristic, and `nameSource` says which rule gave the name:
 *   Deployment  `<deployment>-<pod-template-hash>-<5>`  → "pod-name:deployment"
 *   CronJob     `<cronjob>-<scheduled minute>-<5>`       → "pod-name:cronjob"
 *   StatefulSet `<statefulset>-<ordinal>`                → "pod-name:statefulset"
 *   DaemonSet, Job, bare ReplicaSet `<owner>-<5>`        → "pod-name:daemonset-or-job"
 *   anything else: the pod name itself                   → "pod-name"
 * The hashes use Kubernetes' "safe" alphabet (no vowels, no 0, 1, 3), which keeps ordinary
 * words such as `-proxy` from being taken for a hash. A name ending in such a word of the right
 * length can still be mistaken for a hash: the key then names a shorter owner.
 */
import type { ContainerIdentity, Workload } from '../../gen/soc/sensor/v1/sensor';

/** What the container runtime recorded about a container (runtime.ts reads it). */
export interface ContainerMetadata {
  /** Kubernetes pod name, namespace and container name (CRI annotations), when present. */
  podName?: string;
  podNamespace?: string;
  containerName?: string;
  /** The container's own name outside Kubernetes (docker's `Name`), when present. */
  name?: string;
}

export interface WorkloadInput {
  /** cgroup v2 path below the hierarchy root ("/" for the root cgroup; "" when unknown) */
  cgroupPath: string;
  container: ContainerIdentity | undefined;
  /** absolute path of the executable */
  binary: string;
  metadata?: ContainerMetadata | null;
}

/** Kubernetes' rand.SafeEncodeString alphabet (pod-template hashes and generated suffixes). */
const SAFE = '[bcdfghjklmnpqrstvwxz2456789]';
const DEPLOYMENT_POD = new RegExp(`^(.+)-(${SAFE}{6,10})-(${SAFE}{5})$`);
const CRONJOB_POD = new RegExp(`^(.+)-(\\d{8,10})-(${SAFE}{5})$`);
const GENERATED_POD = new RegExp(`^(.+)-(${SAFE}{5})$`);
const STATEFUL_POD = /^(.+)-(\d{1,5})$/;
const USER_SLICE = /^user-\d+\.slice$/;
const USER_MANAGER = /^user@\d+\.service$/;
const SESSION_SCOPE = /^session-[^/]+\.scope$/;
const SYSTEMD_UNIT = /\.(service|scope|socket|mount|swap|target|timer|path|device)$/;

/** The owning workload of a pod, from its name (see the module comment). */
export function ownerFromPodName(podName: string): { name: string; source: string } {
  let m = CRONJOB_POD.exec(podName);
  if (m) return { name: m[1]!, source: 'pod-name:cronjob' };
  m = DEPLOYMENT_POD.exec(podName);
  if (m) return { name: m[1]!, source: 'pod-name:deployment' };
  m = STATEFUL_POD.exec(podName);
  if (m) return { name: m[1]!, source: 'pod-name:statefulset' };
  m = GENERATED_POD.exec(podName);
  if (m) return { name: m[1]!, source: 'pod-name:daemonset-or-job' };
  return { name: podName, source: 'pod-name' };
}

/** A Workload with every field set (the proto's shape). */
function workload(fields: Partial<Workload> & Pick<Workload, 'key' | 'kind'>): Workload {
  return { namespace: '', name: '', container: '', nameSource: '', podName: '', ...fields };
}

/** `host/<executable>`: the executable path without its leading slash. */
export function hostWorkload(binary: string): Workload {
  const exe = binary.replace(/^\/+/, '') || '(unknown)';
  return workload({ key: `host/${exe}`, kind: 'host', name: binary || '(unknown)', nameSource: 'executable' });
}

/** Segments of a cgroup path ("" and "/" give none). */
function segments(cgroupPath: string): string[] {
  return cgroupPath.split('/').filter((s) => s.length > 0);
}

function shortId(id: string): string {
  return /^[0-9a-f]{64}$/.test(id) ? id.slice(0, 12) : id;
}

/** A workload key segment: what could break a key (slashes, control characters) is replaced. */
function keyPart(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[/\u0000-\u001f\u007f]/g, '_') || '_';
}

/** The workload of a process image (see the module comment for the keys). */
export function workloadOf(input: WorkloadInput): Workload {
  const container = input.container;
  const meta = input.metadata ?? null;
  const containerId = container?.containerId ?? '';
  const runtime = container?.runtime ?? '';
  const podUid = container?.podUid ?? '';

  // Containers (and Kubernetes pods) first: a container below a user manager is still one.
  if (containerId && runtime !== 'systemd') {
    if (meta?.podNamespace && meta.podName) {
      const owner = ownerFromPodName(meta.podName);
      const name = meta.containerName || shortId(containerId);
      return workload({
        key: `k8s/${keyPart(meta.podNamespace)}/${keyPart(owner.name)}/${keyPart(name)}`,
        kind: 'kubernetes',
        namespace: meta.podNamespace,
        name: owner.name,
        container: name,
        nameSource: owner.source,
        podName: meta.podName,
      });
    }
    if (podUid) {
      return workload({ key: `k8s-pod/${podUid}/${shortId(containerId)}`, kind: 'kubernetes', name: '', container: '', nameSource: 'cgroup' });
    }
    const name = meta?.name ? meta.name.replace(/^\/+/, '') : shortId(containerId);
    return workload({
      key: `container/${keyPart(runtime || 'unknown')}/${keyPart(name)}`,
      kind: 'container',
      name,
      nameSource: meta?.name ? 'annotation' : 'cgroup',
    });
  }
  if (podUid) return workload({ key: `k8s-pod/${podUid}/pod`, kind: 'kubernetes', nameSource: 'cgroup' });
  // A runtime monitor (conmon) is runtime infrastructure on the host, not the container.
  if (runtime && runtime !== 'systemd') return hostWorkload(input.binary);

  const parts = segments(input.cgroupPath);
  if (parts.length === 0) return hostWorkload(input.binary);
  // People's sessions and user managers are not workloads.
  if (parts[0] === 'user.slice' || parts.some((p) => USER_SLICE.test(p) || USER_MANAGER.test(p) || SESSION_SCOPE.test(p))) {
    return hostWorkload(input.binary);
  }
  // systemd: units below slices (system.slice, machine.slice, custom slices), and units in the
  // root cgroup (init.scope). The innermost unit wins (a delegated unit may have sub-cgroups).
  if (parts[0]!.endsWith('.slice') || (parts.length === 1 && SYSTEMD_UNIT.test(parts[0]!))) {
    const unit = [...parts].reverse().find((p) => SYSTEMD_UNIT.test(p)) ?? parts.at(-1)!;
    return workload({ key: `systemd/${keyPart(unit)}`, kind: 'systemd', name: unit, nameSource: 'unit' });
  }
  return workload({ key: `cgroup/${parts.map(keyPart).join('/')}`, kind: 'cgroup', name: parts.join('/'), nameSource: 'cgroup' });
}
