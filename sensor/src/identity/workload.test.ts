import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActivityCounters, FactKind, ProcessExec, type Event } from '../../gen/soc/sensor/v1/sensor';
import { emptyFact } from '../kernel/decode';
import { containerFromCgroupPath } from './container';
import { metadataFromAnnotations, RuntimeState } from './runtime';
import { WorkloadTracker } from './tracker';
import { ownerFromPodName, workloadOf, type ContainerMetadata } from './workload';

const ID = '3f1c2a7e9b0d4c5a8e6f7a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f';
const POD = '8a3b5c7d-1e2f-4a5b-9c8d-7e6f5a4b3c2d';
const POD_ = POD.replace(/-/g, '_');
const NODE = '/usr/local/bin/node';

/** The workload key of a cgroup path (identity from the path, as the sensor computes it). */
function keyOf(cgroupPath: string, binary = NODE, metadata: ContainerMetadata | null = null): string {
  return workloadOf({ cgroupPath, container: containerFromCgroupPath(cgroupPath), binary, metadata }).key;
}

const CHECKOUT: ContainerMetadata = { podName: 'checkout-api-7d9f8c6b5-x2z4q', podNamespace: 'shop', containerName: 'api' };

describe('workload identity from real cgroup shapes', () => {
  const cases: Array<[string, string, ContainerMetadata | null, string]> = [
    // Kubernetes with the runtime's names: every QoS class and runtime gives the same key.
    ['containerd, burstable (systemd driver)', `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${POD_}.slice/cri-containerd-${ID}.scope`, CHECKOUT, 'k8s/shop/checkout-api/api'],
    ['containerd, besteffort', `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${POD_}.slice/cri-containerd-${ID}.scope`, CHECKOUT, 'k8s/shop/checkout-api/api'],
    ['containerd, guaranteed (no QoS slice)', `/kubepods.slice/kubepods-pod${POD_}.slice/cri-containerd-${ID}.scope`, CHECKOUT, 'k8s/shop/checkout-api/api'],
    ['cri-o scope', `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${POD_}.slice/crio-${ID}.scope`, CHECKOUT, 'k8s/shop/checkout-api/api'],
    ['docker scope (cri-dockerd)', `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${POD_}.slice/docker-${ID}.scope`, CHECKOUT, 'k8s/shop/checkout-api/api'],
    ['cgroupfs driver (k3s, kind)', `/kubepods/burstable/pod${POD}/${ID}`, CHECKOUT, 'k8s/shop/checkout-api/api'],
    ['nested cgroup inside the container', `/kubepods/pod${POD}/${ID}/sub`, CHECKOUT, 'k8s/shop/checkout-api/api'],
    ['StatefulSet pod', `/kubepods/pod${POD}/${ID}`, { podName: 'postgres-2', podNamespace: 'db', containerName: 'postgres' }, 'k8s/db/postgres/postgres'],
    ['DaemonSet pod', `/kubepods/pod${POD}/${ID}`, { podName: 'node-exporter-k8z2m', podNamespace: 'monitoring', containerName: 'exporter' }, 'k8s/monitoring/node-exporter/exporter'],
    // Kubernetes without names: ids (honest, and unstable across restarts).
    ['containerd, no runtime state', `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${POD_}.slice/cri-containerd-${ID}.scope`, null, `k8s-pod/${POD}/${ID.slice(0, 12)}`],
    ['pod cgroup without a container', `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${POD_}.slice`, null, `k8s-pod/${POD}/pod`],
    ['cri-o conmon is host infrastructure', `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${POD_}.slice/crio-conmon-${ID}.scope`, null, `k8s-pod/${POD}/pod`],
    // Containers outside Kubernetes.
    ['docker, systemd driver', `/system.slice/docker-${ID}.scope`, null, `container/docker/${ID.slice(0, 12)}`],
    ['docker with its name', `/system.slice/docker-${ID}.scope`, { name: '/web-1' }, 'container/docker/web-1'],
    ['docker, cgroupfs driver', `/docker/${ID}`, null, `container/docker/${ID.slice(0, 12)}`],
    ['podman rootful', `/machine.slice/libpod-${ID}.scope/container`, null, `container/podman/${ID.slice(0, 12)}`],
    ['podman rootless, below the user manager', `/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-${ID}.scope`, null, `container/podman/${ID.slice(0, 12)}`],
    ['podman conmon is host infrastructure', `/machine.slice/libpod-conmon-${ID}.scope`, null, 'host/usr/local/bin/node'],
    ['nerdctl', `/system.slice/nerdctl-${ID}.scope`, { name: 'cache' }, 'container/containerd/cache'],
    ['LXC', '/lxc.payload.web01/system.slice/nginx.service', null, 'container/lxc/web01'],
    // systemd units.
    ['a system service', '/system.slice/nginx.service', null, 'systemd/nginx.service'],
    ['a templated service in a sub-slice', '/system.slice/system-getty.slice/getty@tty1.service', null, 'systemd/getty@tty1.service'],
    ['a sub-cgroup delegated below a unit', '/system.slice/myapp.service/worker', null, 'systemd/myapp.service'],
    ['a unit in a custom slice', '/workload.slice/batch.service', null, 'systemd/batch.service'],
    ['init', '/init.scope', null, 'systemd/init.scope'],
    // Not workloads: people's sessions and user managers, the root cgroup.
    ['a login session', '/user.slice/user-1000.slice/session-3.scope', null, 'host/usr/local/bin/node'],
    ['the user manager', '/user.slice/user-1000.slice/user@1000.service/init.scope', null, 'host/usr/local/bin/node'],
    ['a user service', '/user.slice/user-1000.slice/user@1000.service/app.slice/app-firefox-1234.scope', null, 'host/usr/local/bin/node'],
    ['the user slice itself', '/user.slice', null, 'host/usr/local/bin/node'],
    ['the root cgroup', '/', null, 'host/usr/local/bin/node'],
    ['an unresolved cgroup', '', null, 'host/usr/local/bin/node'],
    // Any other cgroup: by its path (tests make their own).
    ['a test cgroup', '/soc-test-1234/wl-a', null, 'cgroup/soc-test-1234/wl-a'],
    ['a custom hierarchy', '/process_api/9e4604e2002e818886f4790ec2e00c39', null, 'cgroup/process_api/9e4604e2002e818886f4790ec2e00c39'],
  ];
  for (const [name, cgroupPath, metadata, key] of cases) {
    it(name, () => expect(keyOf(cgroupPath, NODE, metadata)).toBe(key));
  }

  it('fills the Kubernetes fields and says how the name was found', () => {
    const path = `/kubepods/pod${POD}/${ID}`;
    expect(workloadOf({ cgroupPath: path, container: containerFromCgroupPath(path), binary: NODE, metadata: CHECKOUT })).toEqual({
      key: 'k8s/shop/checkout-api/api',
      kind: 'kubernetes',
      namespace: 'shop',
      name: 'checkout-api',
      container: 'api',
      nameSource: 'pod-name:deployment',
      podName: 'checkout-api-7d9f8c6b5-x2z4q',
    });
    expect(workloadOf({ cgroupPath: '/', container: undefined, binary: '/usr/sbin/sshd' })).toMatchObject({ key: 'host/usr/sbin/sshd', kind: 'host', name: '/usr/sbin/sshd', nameSource: 'executable' });
    expect(workloadOf({ cgroupPath: '/', container: undefined, binary: '' }).key).toBe('host/(unknown)');
  });

  it('keeps key segments free of slashes and control characters', () => {
    const path = `/kubepods/pod${POD}/${ID}`;
    const meta = { podName: 'a/b-0', podNamespace: 'x\ny', containerName: 'c/d' };
    expect(workloadOf({ cgroupPath: path, container: containerFromCgroupPath(path), binary: NODE, metadata: meta }).key).toBe('k8s/x_y/a_b/c_d');
  });
});

describe('the owner of a pod, from its name', () => {
  it.each([
    ['checkout-api-7d9f8c6b5-x2z4q', 'checkout-api', 'pod-name:deployment'],
    ['coredns-5d78c9869d-wq7nb', 'coredns', 'pod-name:deployment'],
    ['web-0', 'web', 'pod-name:statefulset'],
    ['kafka-broker-12', 'kafka-broker', 'pod-name:statefulset'],
    ['kube-proxy-x7k2p', 'kube-proxy', 'pod-name:daemonset-or-job'],
    ['backup-28472160-9xk2c', 'backup', 'pod-name:cronjob'],
    ['kube-proxy', 'kube-proxy', 'pod-name'],
    ['etcd-control-plane', 'etcd-control-plane', 'pod-name'],
    // "proxy" has vowels: not taken for a generated suffix.
    ['my-proxy', 'my-proxy', 'pod-name'],
  ])('%s → %s (%s)', (pod, name, source) => expect(ownerFromPodName(pod)).toEqual({ name, source }));
});

describe('container runtime state', () => {
  let root: string;
  const write = (file: string, value: unknown) => {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), typeof value === 'string' ? value : JSON.stringify(value));
  };
  beforeAll(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'soc-runtime-'));
    write(`/run/containerd/io.containerd.runtime.v2.task/k8s.io/${ID}/config.json`, {
      ociVersion: '1.1.0',
      annotations: {
        'io.kubernetes.cri.container-type': 'container',
        'io.kubernetes.cri.container-name': 'api',
        'io.kubernetes.cri.sandbox-name': 'checkout-api-7d9f8c6b5-x2z4q',
        'io.kubernetes.cri.sandbox-namespace': 'shop',
      },
    });
    write(`/run/containers/storage/overlay-containers/${'b'.repeat(64)}/userdata/config.json`, {
      annotations: { 'io.kubernetes.pod.name': 'web-0', 'io.kubernetes.pod.namespace': 'prod', 'io.kubernetes.container.name': 'nginx' },
    });
    write(`/var/lib/docker/containers/${'c'.repeat(64)}/config.v2.json`, { Name: '/web-1', Config: { Labels: {} } });
    write(`/var/lib/docker/containers/${'d'.repeat(64)}/config.v2.json`, '{not json');
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('reads containerd bundles, CRI-O and docker state', () => {
    const state = new RuntimeState({ root });
    expect(state.lookup('containerd', ID)).toEqual(CHECKOUT);
    expect(state.lookup('cri-o', 'b'.repeat(64))).toEqual({ podName: 'web-0', podNamespace: 'prod', containerName: 'nginx' });
    expect(state.lookup('', 'b'.repeat(64))).toEqual({ podName: 'web-0', podNamespace: 'prod', containerName: 'nginx' });
    expect(state.lookup('docker', 'c'.repeat(64))).toEqual({ name: 'web-1' });
    expect(state.lookup('docker', 'd'.repeat(64))).toBeNull();
    expect(state.lookup('docker', '../../etc')).toBeNull();
  });

  it('retries a miss only after a while, and caches what it found', () => {
    let now = 0;
    const state = new RuntimeState({ root, missRetryMs: 1000, now: () => now });
    const id = 'e'.repeat(64);
    expect(state.lookup('containerd', id)).toBeNull();
    write(`/run/containerd/io.containerd.runtime.v2.task/k8s.io/${id}/config.json`, {
      annotations: { 'io.kubernetes.pod.name': 'late-0', 'io.kubernetes.pod.namespace': 'ns', 'io.kubernetes.container.name': 'c' },
    });
    now = 500;
    expect(state.lookup('containerd', id)).toBeNull();
    now = 1500;
    expect(state.lookup('containerd', id)).toEqual({ podName: 'late-0', podNamespace: 'ns', containerName: 'c' });
  });

  it('names the pause container of a sandbox POD', () => {
    expect(
      metadataFromAnnotations({ 'io.kubernetes.cri.container-type': 'sandbox', 'io.kubernetes.cri.sandbox-name': 'web-0', 'io.kubernetes.cri.sandbox-namespace': 'prod' }),
    ).toEqual({ podName: 'web-0', podNamespace: 'prod', containerName: 'POD' });
    expect(metadataFromAnnotations({ 'io.kubernetes.cri.container-name': 'x' })).toBeNull();
  });
});

describe('workload tracker', () => {
  it('stamps execs with their workload and facts and counters of the image with its key', () => {
    const tracker = new WorkloadTracker({ runtime: { lookup: () => null }, procRoot: '/nonexistent' });
    const at = (execId: string, pid: number, body: Event['body']): Event => ({ seq: '0', tsNs: '1', node: 'n', execId, pid, tid: pid, body });
    const batch = {
      events: [
        at('n:b:1:10:1', 10, { $case: 'exec', value: ProcessExec.fromPartial({ binary: '/usr/bin/sleep', cgroupPath: '/soc-test/a', container: containerFromCgroupPath('/soc-test/a') }) }),
        at('n:b:1:10:1', 10, { $case: 'fact', value: { ...emptyFact(), kind: FactKind.FACT_KIND_SYSCALL, name: 'nanosleep' } }),
        at('n:b:1:10:1', 10, { $case: 'counters', value: ActivityCounters.fromPartial({ syscalls: '3' }) }),
        at('n:b:9:99999999:1', 99999999, { $case: 'fact', value: { ...emptyFact(), kind: FactKind.FACT_KIND_SYSCALL, name: 'read' } }),
      ],
    };
    tracker.stamp(batch.events);
    const [exec, fact, counters, unknown] = batch.events;
    expect(exec!.body?.$case === 'exec' && exec!.body.value.workload).toMatchObject({ key: 'cgroup/soc-test/a', kind: 'cgroup' });
    expect(fact!.body?.$case === 'fact' && fact!.body.value.workload).toBe('cgroup/soc-test/a');
    expect(counters!.body?.$case === 'counters' && counters!.body.value.workload).toBe('cgroup/soc-test/a');
    // Never seen exec and not in /proc: unknown, said plainly (an empty key).
    expect(unknown!.body?.$case === 'fact' && unknown!.body.value.workload).toBe('');
  });

  it('looks an image it never saw exec up in /proc', () => {
    const tracker = new WorkloadTracker({ runtime: { lookup: () => null } });
    const self = tracker.fromProc(process.pid);
    if (process.platform !== 'linux') return;
    expect(self?.key).toMatch(/^(host|cgroup|systemd|container|k8s|k8s-pod)\//);
  });
});
