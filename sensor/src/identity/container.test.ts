import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CgroupResolver, findCgroup2Mount } from './cgroup';
import { containerFromCgroupPath } from './container';

const ID = '3f1c2a7e9b0d4c5a8e6f7a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f';
const ID2 = 'a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1';
const POD = '8a3b5c7d-1e2f-4a5b-9c8d-7e6f5a4b3c2d';
const POD_ = POD.replace(/-/g, '_');

function id(runtime = '', containerId = '', podUid = '') {
  return { runtime, containerId, podUid, podName: '', namespace: '' };
}

describe('containerFromCgroupPath', () => {
  const cases: Array<[string, string, ReturnType<typeof id>]> = [
    ['root cgroup', '/', id()],
    ['empty path', '', id()],
    // Docker
    ['docker, systemd driver', `/system.slice/docker-${ID}.scope`, id('docker', ID)],
    ['docker, cgroupfs driver', `/docker/${ID}`, id('docker', ID)],
    ['docker, nested cgroup inside the container', `/system.slice/docker-${ID}.scope/init.scope`, id('docker', ID)],
    ['docker-in-docker: the innermost container wins', `/docker/${ID}/docker/${ID2}`, id('docker', ID2)],
    [
      'rootless docker below the user manager',
      `/user.slice/user-1000.slice/user@1000.service/user.slice/docker-${ID}.scope`,
      id('docker', ID),
    ],
    ['GitHub Actions job container', `/actions_job/${ID}`, id('docker', ID)],
    // Kubernetes, systemd driver
    [
      'containerd, burstable pod',
      `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${POD_}.slice/cri-containerd-${ID}.scope`,
      id('containerd', ID, POD),
    ],
    [
      'containerd, besteffort pod',
      `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${POD_}.slice/cri-containerd-${ID}.scope`,
      id('containerd', ID, POD),
    ],
    [
      'containerd, guaranteed pod (no QoS slice)',
      `/kubepods.slice/kubepods-pod${POD_}.slice/cri-containerd-${ID}.scope`,
      id('containerd', ID, POD),
    ],
    [
      'cri-o container',
      `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${POD_}.slice/crio-${ID}.scope`,
      id('cri-o', ID, POD),
    ],
    [
      'cri-o conmon is the monitor, not the container',
      `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${POD_}.slice/crio-conmon-${ID}.scope`,
      id('cri-o', '', POD),
    ],
    [
      'docker shim (dockershim / cri-dockerd) pod',
      `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${POD_}.slice/docker-${ID}.scope`,
      id('docker', ID, POD),
    ],
    [
      'pod slice itself (no container below)',
      `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${POD_}.slice`,
      id('', '', POD),
    ],
    // Kubernetes, cgroupfs driver (k3s, kind, GKE COS)
    ['cgroupfs burstable pod', `/kubepods/burstable/pod${POD}/${ID}`, id('', ID, POD)],
    ['cgroupfs besteffort pod', `/kubepods/besteffort/pod${POD}/${ID}`, id('', ID, POD)],
    ['cgroupfs guaranteed pod', `/kubepods/pod${POD}/${ID}`, id('', ID, POD)],
    // Podman, nerdctl, LXC
    ['podman rootful', `/machine.slice/libpod-${ID}.scope`, id('podman', ID)],
    ['podman with the container subgroup', `/machine.slice/libpod-${ID}.scope/container`, id('podman', ID)],
    [
      'podman rootless',
      `/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-${ID}.scope`,
      id('podman', ID),
    ],
    ['podman conmon', `/machine.slice/libpod-conmon-${ID}.scope`, id('podman', '')],
    ['podman cgroupfs', `/libpod_parent/${ID}`, id('podman', ID)],
    ['nerdctl', `/system.slice/nerdctl-${ID}.scope`, id('containerd', ID)],
    ['LXC payload', '/lxc.payload.web01', id('lxc', 'web01')],
    ['LXC payload with nested systemd', '/lxc.payload.web01/system.slice/nginx.service', id('lxc', 'web01')],
    // systemd units
    ['a system service', '/system.slice/nginx.service', id('systemd', 'nginx.service')],
    ['the container runtime itself is a unit', '/system.slice/containerd.service', id('systemd', 'containerd.service')],
    ['a login session', '/user.slice/user-1000.slice/session-3.scope', id('systemd', 'session-3.scope')],
    ['init', '/init.scope', id('systemd', 'init.scope')],
    [
      'a user service',
      '/user.slice/user-1000.slice/user@1000.service/app.slice/app-firefox-1234.scope',
      id('systemd', 'app-firefox-1234.scope'),
    ],
    [
      'a sub-cgroup delegated below a unit',
      '/system.slice/myapp.service/worker',
      id('systemd', 'myapp.service'),
    ],
    ['a bare slice is not a workload', '/user.slice', id()],
    // Not containers
    ['a hex-looking but short id', '/docker/abc123', id()],
    ['uppercase hex is not a runtime id', `/docker/${ID.toUpperCase()}`, id()],
    ['custom cgroup', '/process_api/9e4604e2002e818886f4790ec2e00c39', id()],
    ['only the leaf name (cgroup already gone)', `/cri-containerd-${ID}.scope`, id('containerd', ID)],
  ];

  for (const [name, path, expected] of cases) {
    it(name, () => {
      expect(containerFromCgroupPath(path)).toEqual(expected);
    });
  }

  it('ignores repeated and trailing slashes', () => {
    expect(containerFromCgroupPath(`//system.slice//docker-${ID}.scope/`)).toEqual(id('docker', ID));
  });

  it('returns a fresh object each time (callers may fill pod name and namespace)', () => {
    const a = containerFromCgroupPath('/system.slice/nginx.service');
    a.podName = 'x';
    expect(containerFromCgroupPath('/system.slice/nginx.service').podName).toBe('');
  });
});

// The resolver that produces the paths above (same folder, same concern: cgroup -> identity).
describe('cgroup id -> path', () => {
  it('finds the cgroup2 mount on unified and hybrid hosts', () => {
    const unified = '30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate';
    const hybrid = [
      '25 20 0:22 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:8 - tmpfs tmpfs ro,mode=755',
      '26 25 0:23 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw',
      '27 25 0:24 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,name=systemd',
    ].join('\n');
    expect(findCgroup2Mount(unified)).toBe('/sys/fs/cgroup');
    expect(findCgroup2Mount(hybrid)).toBe('/sys/fs/cgroup/unified');
    expect(findCgroup2Mount('27 25 0:24 / /mnt/with\\040space rw - cgroup2 none rw')).toBe('/mnt/with space');
    expect(findCgroup2Mount('22 27 0:21 / /proc rw,relatime - proc proc rw')).toBeUndefined();
  });

  it('maps directory inode numbers to paths and rescans on a miss, rate-limited', () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'cgroup-'));
    try {
      mkdirSync(path.join(root, 'system.slice', 'nginx.service'), { recursive: true });
      let now = 0;
      const r = new CgroupResolver({ root, minRescanMs: 1000, now: () => now });
      const ino = (p: string) => statSync(path.join(root, p), { bigint: true }).ino.toString();
      expect(r.resolve(ino('.'))).toBe('/');
      expect(r.resolve(ino('system.slice/nginx.service'))).toBe('/system.slice/nginx.service');
      expect(r.stats().scans).toBe(1);

      mkdirSync(path.join(root, 'system.slice', `docker-${ID}.scope`));
      const id = ino(`system.slice/docker-${ID}.scope`);
      now = 500; // too soon after the last walk: unresolved, no walk
      expect(r.resolve(id)).toBeUndefined();
      expect(r.stats().scans).toBe(1);
      now = 1500;
      expect(r.resolve(id)).toBe(`/system.slice/docker-${ID}.scope`);
      expect(r.stats()).toMatchObject({ scans: 2, misses: 3 });
      expect(r.resolve(id)).toBe(`/system.slice/docker-${ID}.scope`); // cached
      expect(r.resolve('999999999999')).toBeUndefined();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('resolves nothing without a cgroup2 mount', () => {
    const r = new CgroupResolver({ root: null });
    expect(r.resolve('1')).toBeUndefined();
  });
});
