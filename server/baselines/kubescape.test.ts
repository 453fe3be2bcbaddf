import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import {
  EXTENSIONS_ANNOTATION,
  ProfileFormatError,
  parseApplicationProfile,
  serializeApplicationProfile,
} from './kubescape';

const fixture = fs.readFileSync(path.join(import.meta.dirname, 'testdata/kubescape-applicationprofile.yaml'), 'utf8');

describe('Kubescape ApplicationProfile import/export', () => {
  it('reads the fixture’s entries', () => {
    const doc = parseApplicationProfile(fixture);
    expect(doc.name).toBe('replicaset-checkout-api-7d9f8c6b5');
    expect(doc.namespace).toBe('shop');
    const api = doc.containers[0]!;
    expect(api.name).toBe('api');
    expect(api.syscalls).toHaveLength(46);
    expect(api.syscalls).toContain('epoll_pwait');
    expect(api.syscalls).not.toContain('io_uring_setup');
    expect(api.execs).toEqual([
      { path: '/usr/local/bin/node', args: ['/usr/local/bin/node', '/app/server.js'] },
      { path: '/usr/local/bin/node', args: ['/usr/local/bin/node', '/app/worker.js', '--queue', 'payments'] },
    ]);
    expect(api.opens.map((o) => o.path)).toEqual(['/app/server.js', '/app/node_modules/⋯', '/etc/ssl/certs/ca-certificates.crt', '/tmp/⋯']);
    expect(api.endpoints[0]).toEqual({ endpoint: ':8080/api/checkout', methods: ['POST'], direction: 'inbound', internal: false });
    expect(api.rulePolicies).toEqual({ R0002: { processAllowed: ['node'] } });
  });

  it('round-trips the fixture losslessly', () => {
    const again = serializeApplicationProfile(parseApplicationProfile(fixture));
    expect(YAML.parse(again)).toEqual(YAML.parse(fixture));
    // and a second pass is stable
    expect(serializeApplicationProfile(parseApplicationProfile(again))).toBe(again);
  });

  it('carries the cockpit’s io_uring and network-peer entries in one annotation', () => {
    const doc = parseApplicationProfile(fixture);
    doc.containers[0]!.ioUringOps = ['OPENAT', 'READ'];
    doc.containers[0]!.networkPeers = [{ address: '10.0.0.7', port: 5432, protocol: 'tcp', direction: 'outbound' }];
    const text = serializeApplicationProfile(doc);
    const obj = YAML.parse(text);
    expect(JSON.parse(obj.metadata.annotations[EXTENSIONS_ANNOTATION])).toEqual({
      api: { ioUringOps: ['OPENAT', 'READ'], networkPeers: [{ address: '10.0.0.7', port: 5432, protocol: 'tcp', direction: 'outbound' }] },
    });
    const back = parseApplicationProfile(text);
    expect(back.containers[0]!.ioUringOps).toEqual(['OPENAT', 'READ']);
    expect(back.annotations[EXTENSIONS_ANNOTATION]).toBeUndefined();
    expect(back.containers[0]!.networkPeers[0]!.port).toBe(5432);
  });

  it.each([
    ['malformed YAML', 'apiVersion: [unclosed', /not valid YAML/],
    ['a list, not an object', '- a\n- b', /not a Kubernetes object/],
    ['an unknown apiVersion', fixture.replace('apiVersion: spdx.softwarecomposition.kubescape.io/v1beta1', 'apiVersion: spdx.softwarecomposition.kubescape.io/v9'), /unknown apiVersion "spdx\.softwarecomposition\.kubescape\.io\/v9"/],
    ['another kind', fixture.replace('kind: ApplicationProfile', 'kind: NetworkNeighborhood'), /unknown kind "NetworkNeighborhood"/],
    ['syscalls that are not strings', fixture.replace('syscalls: [accept4,', 'syscalls: [{a: 1},'), /invalid ApplicationProfile at spec\.containers\.0\.syscalls\.0/],
    ['a container without a name', fixture.replace('    - name: api\n', '    - containerName: api\n'), /spec\.containers\.0\.name/],
    ['a malformed extensions annotation', fixture.replace('  labels:', `    ${EXTENSIONS_ANNOTATION}: "{nope"\n  labels:`), /not JSON/],
    ['an alias bomb', 'a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]', /not valid YAML|not a Kubernetes|apiVersion/],
  ])('refuses %s with a clear error', (_what, text, message) => {
    expect(() => parseApplicationProfile(text)).toThrow(ProfileFormatError);
    expect(() => parseApplicationProfile(text)).toThrow(message);
  });
});
