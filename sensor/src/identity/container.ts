/**
 * Container and pod identity from a cgroup v2 path, as far as the path tells it.
 *
 * Container runtimes name the cgroup of each container after its id, and the kubelet names pod
 * cgroups after the pod uid, in two styles:
 *   systemd driver:  /kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid with _>.slice/
 *                    cri-containerd-<id>.scope | crio-<id>.scope | docker-<id>.scope
 *   cgroupfs driver: /kubepods/burstable/pod<uid>/<id>,  /docker/<id>
 * Podman uses libpod-<id>.scope (rootless: below user@UID.service), nerdctl nerdctl-<id>.scope,
 * LXC lxc.payload.<name>. Runtime monitors (crio-conmon-…, libpod-conmon-…) are not the
 * container: they get the runtime but no container id. A process in a plain systemd unit gets
 * runtime "systemd" and the unit name as its id, the workload identity systemd gives it.
 *
 * Pod name and namespace are not in the path: they stay empty here (another component can
 * fill them from the kubelet). Pure function, no I/O.
 */
import type { ContainerIdentity } from '../../gen/soc/sensor/v1/sensor';

const HEX64 = '([0-9a-f]{64})';

/** Container scopes named by runtime, systemd cgroup driver style. */
const SCOPE_PATTERNS: ReadonlyArray<{ re: RegExp; runtime: string; monitor?: boolean }> = [
  { re: new RegExp(`^docker-${HEX64}\\.scope$`), runtime: 'docker' },
  { re: new RegExp(`^cri-containerd-${HEX64}\\.scope$`), runtime: 'containerd' },
  { re: new RegExp(`^nerdctl-${HEX64}\\.scope$`), runtime: 'containerd' },
  { re: new RegExp(`^crio-conmon-${HEX64}\\.scope$`), runtime: 'cri-o', monitor: true },
  { re: new RegExp(`^crio-${HEX64}\\.scope$`), runtime: 'cri-o' },
  { re: new RegExp(`^libpod-conmon-${HEX64}\\.scope$`), runtime: 'podman', monitor: true },
  { re: new RegExp(`^libpod-${HEX64}\\.scope$`), runtime: 'podman' },
];

const BARE_ID = new RegExp(`^${HEX64}$`);
/** Parent directories of bare ids whose runtime is known (cgroupfs driver). */
const BARE_ID_PARENTS: Readonly<Record<string, string>> = {
  docker: 'docker',
  actions_job: 'docker', // GitHub Actions job containers (docker --cgroup-parent)
  libpod_parent: 'podman',
};

const POD_SLICE = /^kubepods(?:-[a-z]+)*-pod([0-9a-f_]{36})\.slice$/;
const POD_DIR = /^pod([0-9a-f-]{36})$/;
const LXC = /^lxc\.payload\.(.+)$/;
const SYSTEMD_UNIT = /^[^/]+\.(service|scope|socket|mount|swap|target|timer)$/;

export function emptyContainerIdentity(): ContainerIdentity {
  return { runtime: '', containerId: '', podUid: '', podName: '', namespace: '' };
}

/** Identity for a cgroup v2 path relative to the hierarchy root (e.g. "/system.slice/x.service"). */
export function containerFromCgroupPath(path: string): ContainerIdentity {
  const id = emptyContainerIdentity();
  const segments = path.split('/').filter((s) => s.length > 0);
  if (segments.length === 0) return id;

  let inKubepods = false;
  for (const seg of segments) {
    const slice = POD_SLICE.exec(seg);
    if (slice) id.podUid = slice[1]!.replace(/_/g, '-');
    else if (inKubepods) {
      const dir = POD_DIR.exec(seg);
      if (dir) id.podUid = dir[1]!;
    }
    if (seg === 'kubepods' || seg.startsWith('kubepods')) inKubepods = true;
  }

  // The innermost container wins (nested cgroups below a container scope belong to it).
  for (let i = segments.length - 1; i >= 0; i--) {
    const seg = segments[i]!;
    for (const p of SCOPE_PATTERNS) {
      const m = p.re.exec(seg);
      if (m) {
        id.runtime = p.runtime;
        if (!p.monitor) id.containerId = m[1]!;
        return id;
      }
    }
    const bare = BARE_ID.exec(seg);
    if (bare) {
      const parent = i > 0 ? segments[i - 1]! : '';
      id.runtime = BARE_ID_PARENTS[parent] ?? '';
      id.containerId = bare[1]!;
      return id;
    }
    const lxc = LXC.exec(seg);
    if (lxc) {
      id.runtime = 'lxc';
      id.containerId = lxc[1]!;
      return id;
    }
  }

  if (id.podUid) return id; // a pod cgroup without a container below it (pod-level processes)

  // The innermost unit (a delegated unit may have sub-cgroups of its own below it).
  for (let i = segments.length - 1; i >= 0; i--) {
    if (SYSTEMD_UNIT.test(segments[i]!)) {
      id.runtime = 'systemd';
      id.containerId = segments[i]!;
      break;
    }
  }
  return id;
}
