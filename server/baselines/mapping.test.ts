import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { WORKLOAD_PROFILE } from '../../db/repositories/baselines';
import { ProfileSet } from '../detection/profiles';
import { importContainer } from './changes';
import { parseApplicationProfile, ProfileFormatError, serializeApplicationProfile } from './kubescape';
import { containersToImport, exportDocument, exportOrder, isWorkloadKey, peerValue } from './mapping';

const fixture = fs.readFileSync(path.join(import.meta.dirname, 'testdata/kubescape-applicationprofile.yaml'), 'utf8');
const S = 1_000_000_000n;
const WINDOW = { minNs: 600n * S, quietNs: 300n * S, maxNs: 86_400n * S };

/** Import into profiles, then export from them (what the API does through storage). */
function roundTrip(text: string, override?: string) {
  const doc = parseApplicationProfile(text);
  const set = new ProfileSet();
  const [container] = containersToImport(doc, override);
  importContainer(set, container!, { atNs: 1_800_000_000n * S, window: WINDOW, actor: 'ana' });
  const profiles = exportOrder(set.profilesOf(container!.workload));
  const document = { workload: container!.workload, container: container!.container.name, document: JSON.stringify(doc.raw), importedAtNs: '1', actor: 'ana', rowVersion: '1' };
  return { set, container: container!, text: serializeApplicationProfile(exportDocument({ workload: container!.workload, info: profiles[0]!.info, profiles, document })) };
}

describe('Kubescape profiles ↔ cockpit profiles', () => {
  it('imports the fixture’s container into k8s/<namespace>/<workload>/<container>, completed', () => {
    const { set, container } = roundTrip(fixture);
    expect(container.workload).toBe('k8s/shop/checkout-api/api');
    const star = set.get('k8s/shop/checkout-api/api', WORKLOAD_PROFILE)!;
    expect(star.state).toMatchObject({ status: 'completed', completedBy: 'import', version: 2 });
    expect(star.valuesOf('syscall')).toHaveLength(46);
    expect(star.valuesOf('exec')).toEqual(['/usr/local/bin/node']); // two entries (args differ), one value
    expect(star.entriesFor('exec', '/usr/local/bin/node')).toHaveLength(2);
    expect(star.valuesOf('http_endpoint')).toEqual([':8080/api/checkout', ':8080/healthz']);
    expect(star.info).toEqual({ kind: 'kubernetes', namespace: 'shop', name: 'checkout-api', container: 'api' });
  });

  it('exports what it imported losslessly (syscalls, execs, opens, endpoints, rulePolicies and the rest)', () => {
    const { text } = roundTrip(fixture);
    expect(YAML.parse(text)).toEqual(YAML.parse(fixture));
  });

  it('exports learned entries next to imported ones, and io_uring/peers in the extensions annotation', () => {
    const { set } = roundTrip(fixture);
    const star = set.get('k8s/shop/checkout-api/api', WORKLOAD_PROFILE)!;
    const base = { profileVersion: 3, position: 0, node: 'n', execId: 'x', actor: '', reason: '', indicatorId: '' };
    star.add({ ...base, kind: 'syscall', value: 'io_uring_setup', detail: {}, source: 'allowed', tsNs: '5' });
    star.add({ ...base, kind: 'io_uring_op', value: 'READ', detail: {}, source: 'learned', tsNs: '6' });
    star.add({ ...base, kind: 'endpoint', value: '10.0.0.7:5432/tcp', detail: { address: '10.0.0.7', port: 5432, protocol: 'tcp', direction: 'outbound' }, source: 'learned', tsNs: '7' });
    const doc = exportDocument({ workload: 'k8s/shop/checkout-api/api', info: star.info, profiles: [star], document: null });
    const c = doc.containers[0]!;
    expect(c.syscalls.at(-1)).toBe('io_uring_setup');
    expect(c.ioUringOps).toEqual(['READ']);
    expect(c.networkPeers).toEqual([{ address: '10.0.0.7', port: 5432, protocol: 'tcp', direction: 'outbound' }]);
    const again = parseApplicationProfile(serializeApplicationProfile(doc));
    expect(again.containers[0]!.ioUringOps).toEqual(['READ']);
    expect(again.annotations['soc-cockpit.io/workload']).toBe('k8s/shop/checkout-api/api');
    expect(again.labels).toEqual({ 'kubescape.io/workload-name': 'checkout-api', 'kubescape.io/workload-namespace': 'shop' });
  });

  it('imports into a named workload (one container only) and checks workload keys', () => {
    expect(roundTrip(fixture, 'cgroup/soc-e2e/a').container.workload).toBe('cgroup/soc-e2e/a');
    const two = fixture.replace('  initContainers: []', '    - name: sidecar\n      syscalls: [read]\n  initContainers: []');
    expect(containersToImport(parseApplicationProfile(two)).map((c) => c.workload)).toEqual(['k8s/shop/checkout-api/api', 'k8s/shop/checkout-api/sidecar']);
    expect(() => containersToImport(parseApplicationProfile(two), 'cgroup/x')).toThrow(ProfileFormatError);
    expect(isWorkloadKey('cgroup/soc-test/a')).toBe(true);
    expect(isWorkloadKey('host/usr/bin/dash')).toBe(true);
    expect(isWorkloadKey('cgroup/../etc')).toBe(false);
    expect(isWorkloadKey('nope/x')).toBe(false);
    expect(peerValue({ address: 'fd00::1', port: 443, protocol: 'tcp', direction: 'outbound' })).toBe('[fd00::1]:443/tcp');
    expect(peerValue({ address: '', port: 8080, protocol: 'tcp', direction: 'inbound' })).toBe(':8080/tcp inbound');
  });
});
