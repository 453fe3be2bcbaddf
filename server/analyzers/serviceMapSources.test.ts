import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { createServiceMap } from './serviceMap';
import { parseServiceMapConfig, parseServiceMapConfigText, serviceMapFromKubernetes, ServiceMapConfigError } from './serviceMapSources';

describe('service map configuration', () => {
  it('loads a YAML document', () => {
    const entries = parseServiceMapConfigText(
      [
        'services:',
        '  - name: redis.cache',
        '    cidr: 10.96.0.0/12',
        '    port: 6379',
        '    protocol: tcp',
        '    namespace: cache',
        '  - name: ingest',
        '    address: fd00::20',
        '    port: "8000-8100"',
        '  - name: anything-internal',
        '    cidr: 10.0.0.0/8',
      ].join('\n'),
      parseYaml,
    );
    expect(entries).toEqual([
      { name: 'redis.cache', cidr: '10.96.0.0/12', port: 6379, protocol: 'tcp', namespace: 'cache', source: 'config' },
      { name: 'ingest', address: 'fd00::20', portRange: { from: 8000, to: 8100 }, source: 'config' },
      { name: 'anything-internal', cidr: '10.0.0.0/8', source: 'config' },
    ]);
    expect(createServiceMap(entries).lookup({ address: 'fd00::20', port: 8080, protocol: 'tcp' }).match?.name).toBe('ingest');
  });

  it('loads JSON without a YAML parser, and a single port given as text', () => {
    expect(parseServiceMapConfigText('{"services":[{"name":"a","address":"10.1.1.1","port":"443"}]}')).toEqual([
      { name: 'a', address: '10.1.1.1', port: 443, source: 'config' },
    ]);
  });

  it('lists every problem with its path', () => {
    const bad = {
      services: [
        { name: '', cidr: '10.0.0.0/8' },
        { name: 'b', cidr: '10.0.0.0/33', port: 0 },
        { name: 'c', address: '10.0.0.1', cidr: '10.0.0.0/8' },
        { name: 'd', address: '10.0.0.1', port: '90-80' },
        { name: 'e', address: 'redis', protocol: 'http' },
        { name: 'f', address: '10.0.0.1', colour: 'blue' },
      ],
    };
    let error: ServiceMapConfigError | undefined;
    try {
      parseServiceMapConfig(bad);
    } catch (err) {
      error = err as ServiceMapConfigError;
    }
    expect(error).toBeInstanceOf(ServiceMapConfigError);
    expect(error!.issues).toEqual([
      'services[0].name: must not be empty',
      'services[1].cidr: is not a valid CIDR block (e.g. 10.96.0.0/12, fd00::/8)',
      'services[1].port: Too small: expected number to be >=1',
      'services[2]: give exactly one of cidr or address',
      'services[3].port: a range must run from low to high',
      'services[4].address: is not a valid IPv4 or IPv6 address',
      'services[4].protocol: Invalid option: expected one of "tcp"|"udp"|"sctp"',
      'services[5]: Unrecognized key: "colour"',
    ]);
    expect(error!.message).toMatch(/^service map config is invalid:\n {2}- services\[0\]\.name: must not be empty\n/);
  });

  it('says what is wrong with the document as a whole', () => {
    expect(() => parseServiceMapConfig({ service: [] })).toThrow('service map config is invalid:\n  - services: Invalid input: expected array, received undefined\n  - Unrecognized key: "service"');
    expect(() => parseServiceMapConfigText('services: []')).toThrow('the text is not JSON and no YAML parser was given');
    expect(() => parseServiceMapConfigText('{"services": [')).toThrow(/cannot parse the document/);
  });
});

const kubectlOutput = {
  apiVersion: 'v1',
  kind: 'List',
  items: [
    {
      apiVersion: 'v1', kind: 'Service',
      metadata: { name: 'redis', namespace: 'cache' },
      spec: { type: 'ClusterIP', clusterIP: '10.96.12.7', clusterIPs: ['10.96.12.7', 'fd00:96::7'], ports: [{ name: 'redis', port: 6379, protocol: 'TCP', targetPort: 6379 }] },
    },
    {
      apiVersion: 'v1', kind: 'Service',
      metadata: { name: 'kube-dns', namespace: 'kube-system' },
      spec: { clusterIP: '10.96.0.10', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }] },
    },
    {
      apiVersion: 'v1', kind: 'Service',
      metadata: { name: 'db', namespace: 'data' },
      spec: { clusterIP: 'None', ports: [{ port: 5432 }] },
    },
    {
      apiVersion: 'v1', kind: 'Service',
      metadata: { name: 'edge', namespace: 'web' },
      spec: { clusterIP: '10.96.9.9', externalIPs: ['198.51.100.4'], ports: [{ port: 443, protocol: 'TCP' }] },
      status: { loadBalancer: { ingress: [{ ip: '198.51.100.5' }, { hostname: 'lb.example' }] } },
    },
    {
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
      metadata: { name: 'db-x7k2p', namespace: 'data', labels: { 'kubernetes.io/service-name': 'db' } },
      addressType: 'IPv4',
      endpoints: [
        { addresses: ['10.244.1.17'], conditions: { ready: true }, targetRef: { kind: 'Pod', name: 'db-0', namespace: 'data' } },
        { addresses: ['10.244.2.9'], targetRef: { kind: 'Pod', name: 'db-1' } },
      ],
      ports: [{ name: '', port: 5432, protocol: 'TCP' }],
    },
    {
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
      metadata: { name: 'ext-abc', namespace: 'web', labels: { 'kubernetes.io/service-name': 'ext' } },
      addressType: 'FQDN',
      endpoints: [{ addresses: ['api.example.com'] }],
      ports: [{ port: 443 }],
    },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'y' } },
  ],
};

describe('service map from Kubernetes', () => {
  it('maps Services and EndpointSlices to <service>.<namespace>', () => {
    const { entries, skipped } = serviceMapFromKubernetes(kubectlOutput);
    expect(entries.map((e) => `${e.name} ${e.address}:${e.port ?? '*'}/${e.protocol ?? '*'} (${e.detail})`)).toEqual([
      'redis.cache 10.96.12.7:6379/tcp (clusterIP of Service cache/redis)',
      'redis.cache fd00:96::7:6379/tcp (clusterIP of Service cache/redis)',
      'kube-dns.kube-system 10.96.0.10:53/udp (clusterIP of Service kube-system/kube-dns)',
      'kube-dns.kube-system 10.96.0.10:53/tcp (clusterIP of Service kube-system/kube-dns)',
      'edge.web 10.96.9.9:443/tcp (clusterIP of Service web/edge)',
      'edge.web 198.51.100.4:443/tcp (external IP of Service web/edge)',
      'edge.web 198.51.100.5:443/tcp (load-balancer IP of Service web/edge)',
      'db.data 10.244.1.17:5432/tcp (endpoint of EndpointSlice data/db-x7k2p (pod db-0))',
      'db.data 10.244.2.9:5432/tcp (endpoint of EndpointSlice data/db-x7k2p (pod db-1))',
    ]);
    expect(entries.every((e) => e.source === 'kubernetes')).toBe(true);
    expect(skipped).toEqual(['EndpointSlice web/ext-abc: address type FQDN holds no addresses', 'item 6: kind ConfigMap is not a Service or EndpointSlice']);
  });

  it('gives reasons that name the Kubernetes object', () => {
    const map = createServiceMap(serviceMapFromKubernetes(kubectlOutput).entries);
    expect(map.lookup({ address: '10.244.2.9', port: 5432, protocol: 'tcp' }).reason).toBe(
      '10.244.2.9:5432 matched db.data (address 10.244.2.9, port 5432/tcp, from kubernetes: endpoint of EndpointSlice data/db-x7k2p (pod db-1))',
    );
    expect(map.lookup({ address: '10.96.0.10', port: 53, protocol: 'udp' }).match?.name).toBe('kube-dns.kube-system');
  });

  it('accepts a bare array, and treats a numberless slice port as all ports', () => {
    const { entries } = serviceMapFromKubernetes([
      { kind: 'EndpointSlice', metadata: { name: 's', namespace: 'n', labels: { 'kubernetes.io/service-name': 'svc' } }, addressType: 'IPv6', endpoints: [{ addresses: ['fd00::5'] }], ports: [{ protocol: 'UDP' }] },
    ]);
    expect(entries).toEqual([{ name: 'svc.n', address: 'fd00::5', namespace: 'n', source: 'kubernetes', detail: 'endpoint of EndpointSlice n/s', protocol: 'udp' }]);
  });

  it('refuses what is not a list, and names broken objects', () => {
    expect(() => serviceMapFromKubernetes({ kind: 'Service' })).toThrow('Kubernetes list is invalid:\n  - items: Invalid input: expected array, received undefined');
    expect(() => serviceMapFromKubernetes({ items: [{ kind: 'Service', metadata: { namespace: 'x' }, spec: { ports: [{ port: 'http' }] } }] })).toThrow(
      'Kubernetes list is invalid:\n  - items[0] (Service): metadata.name: Invalid input: expected string, received undefined\n  - items[0] (Service): spec.ports[0].port: Invalid input: expected number, received string',
    );
  });
});
