import { describe, expect, it } from 'vitest';
import { createFileClassifier, globToRegExp, normalizePath } from './fileClass';

const classifier = createFileClassifier();
const classOf = (path: string, pid?: number) => classifier.classify(path, { pid })?.class ?? null;

describe('sensitive file classes', () => {
  it.each([
    ['/var/run/secrets/kubernetes.io/serviceaccount/token', 'service_account_token'],
    ['/run/secrets/kubernetes.io/serviceaccount/token', 'service_account_token'],
    ['/var/run/secrets/kubernetes.io/serviceaccount/..2024_01_01_00_00_00.123/token', 'service_account_token'],
    ['/var/run/secrets/kubernetes.io/serviceaccount/..data/token', 'service_account_token'],
    ['/run/secrets/eks.amazonaws.com/serviceaccount/token', 'service_account_token'],
    ['/var/run/secrets/azure/tokens/azure-identity-token', 'service_account_token'],
    ['/var/run/secrets/tokens/vault-token', 'service_account_token'],
    ['/custom/mount/serviceaccount/token', 'service_account_token'],
    ['/var/run/secrets/kubernetes.io/serviceaccount/ca.crt', 'kubernetes_ca'],
    ['/var/run/secrets/kubernetes.io/serviceaccount/..2024_01_01_00_00_00.123/ca.crt', 'kubernetes_ca'],
    ['/var/run/secrets/kubernetes.io/serviceaccount/namespace', 'kubernetes_namespace'],
    ['/etc/shadow', 'shadow'],
    ['/etc/gshadow-', 'shadow'],
    ['/etc/passwd', null],
    ['/root/.aws/credentials', 'cloud_credentials'],
    ['/home/app/.aws/sso/cache/8f3a.json', 'cloud_credentials'],
    ['/home/app/.config/gcloud/application_default_credentials.json', 'cloud_credentials'],
    ['/home/app/.config/gcloud/legacy_credentials/dev@example.com/adc.json', 'cloud_credentials'],
    ['/root/.azure/msal_token_cache.json', 'cloud_credentials'],
    ['/home/dev/.ssh/id_ed25519', 'ssh_key'],
    ['/home/dev/.ssh/id_ed25519.pub', null],
    ['/etc/ssh/ssh_host_rsa_key', 'ssh_key'],
    ['/etc/ssh/ssh_host_rsa_key.pub', null],
    ['/root/.ssh/authorized_keys', 'ssh_authorized_keys'],
    ['/etc/ssl/private/server.pem', 'tls_private_key'],
    ['/app/certs/tls.key', 'tls_private_key'],
    ['/app/certs/client-key.pem', 'tls_private_key'],
    ['/app/certs/client.pem', null],
    ['/etc/letsencrypt/live/example.com/privkey.pem', 'tls_private_key'],
    ['/root/.kube/config', 'kube_config'],
    ['/etc/kubernetes/admin.conf', 'kube_config'],
    ['/etc/rancher/k3s/k3s.yaml', 'kube_config'],
    ['/var/lib/kubelet/pki/kubelet-client-current.pem', 'kubernetes_node_credentials'],
    ['/etc/kubernetes/pki/ca.crt', 'kubernetes_ca'],
    ['/etc/kubernetes/pki/etcd/server.key', 'kubernetes_node_credentials'],
    ['/root/.docker/config.json', 'docker_config'],
    ['/run/containers/0/auth.json', 'docker_config'],
    ['/home/u/.mozilla/firefox/abcd.default-release/logins.json', 'browser_credentials'],
    ['/home/u/.config/google-chrome/Default/Login Data', 'browser_credentials'],
    ['/home/u/.config/chromium/Local State', 'browser_credentials'],
    ['/home/u/.git-credentials', 'credential_cache'],
    ['/app/.npmrc', 'credential_cache'],
    ['/root/.vault-token', 'credential_cache'],
    ['/var/run/docker.sock', 'container_runtime_socket'],
    ['/run/containerd/containerd.sock', 'container_runtime_socket'],
    ['/run/user/1000/podman/podman.sock', 'container_runtime_socket'],
    ['/app/server.js', null],
    ['/tmp/token', null],
  ])('%s is %s', (path, expected) => {
    expect(classOf(path)).toBe(expected);
  });

  it('explains a projected token, the projection directory and /var/run', () => {
    expect(classifier.classify('/var/run/secrets/kubernetes.io/serviceaccount/..2024_01_01_00_00_00.123/token')).toEqual({
      path: '/var/run/secrets/kubernetes.io/serviceaccount/..2024_01_01_00_00_00.123/token',
      normalizedPath: '/run/secrets/kubernetes.io/serviceaccount/..2024_01_01_00_00_00.123/token',
      class: 'service_account_token',
      severity: 'high',
      pattern: '/run/secrets/kubernetes.io/serviceaccount/{token,..*/token}',
      source: 'builtin',
      reason:
        "Kubernetes service-account token: a bearer credential for the API server, through kubelet's timestamped projection directory ..2024_01_01_00_00_00.123 (matched /run/secrets/kubernetes.io/serviceaccount/{token,..*/token}; /var/run is /run)",
    });
    expect(classifier.classify('/run/secrets/eks.amazonaws.com/serviceaccount/token')).toMatchObject({
      provider: 'aws',
      reason: "AWS IRSA web-identity token: exchanged for the pod role's AWS credentials (matched /run/secrets/eks.amazonaws.com/serviceaccount/{token,..*/token})",
    });
  });

  it('normalises tricks in the path as written', () => {
    expect(classOf('/var/run/secrets/kubernetes.io/serviceaccount/../serviceaccount/./token')).toBe('service_account_token');
    expect(classOf('//etc//shadow')).toBe('shadow');
    expect(classOf('/tmp/../etc/shadow')).toBe('shadow');
    expect(normalizePath('/var/run')).toBe('/run');
    expect(normalizePath('/var/runner/x')).toBe('/var/runner/x');
    expect(normalizePath('a/../../b')).toBe('../b');
  });

  it('flags another process\'s environment or memory, not the process\'s own', () => {
    expect(classifier.classify('/proc/4242/environ', { pid: 100 })).toMatchObject({
      class: 'process_environ', severity: 'high', reason: 'environment of process 4242: often holds API keys and passwords',
    });
    expect(classOf('/proc/4242/task/4243/mem', 100)).toBe('process_memory');
    expect(classOf('/proc/100/environ', 100)).toBeNull();
    expect(classOf('/proc/self/environ', 100)).toBeNull();
    expect(classOf('/proc/thread-self/mem')).toBeNull();
    expect(classifier.classify('/proc/7/mem')?.reason).toBe(
      "memory of process 7: reading it exposes everything the process holds, keys included (the accessing process's pid is unknown, so it may be its own)",
    );
    expect(classOf('/proc/4242/cmdline', 100)).toBeNull();
  });

  it('tries configured patterns first', () => {
    const custom = createFileClassifier([
      { class: 'payment_keys', pattern: '/srv/payments/**/*.{key,pem}', severity: 'critical', reason: 'payment signing keys' },
      { class: 'app_secrets', pattern: '/var/run/app-secrets/*' },
    ]);
    expect(custom.classify('/srv/payments/prod/signing.key')).toMatchObject({
      class: 'payment_keys', severity: 'critical', source: 'config', reason: 'payment signing keys (matched /srv/payments/**/*.{key,pem})',
    });
    expect(custom.classify('/var/run/app-secrets/db-password')).toMatchObject({
      class: 'app_secrets', severity: 'medium', reason: 'configured class app_secrets (matched /var/run/app-secrets/*; /var/run is /run)',
    });
    expect(custom.classify('/etc/shadow')?.class).toBe('shadow');
  });
});

describe('globs', () => {
  it('keeps * inside a segment and lets ** cross segments', () => {
    expect(globToRegExp('/a/*/c').test('/a/b/c')).toBe(true);
    expect(globToRegExp('/a/*/c').test('/a/b/x/c')).toBe(false);
    expect(globToRegExp('/a/**/c').test('/a/b/x/c')).toBe(true);
    expect(globToRegExp('/a/**/c').test('/a/c')).toBe(true);
    expect(globToRegExp('**/.kube/config').test('/.kube/config')).toBe(true);
    expect(globToRegExp('/x/?.key').test('/x/a.key')).toBe(true);
    expect(globToRegExp('/x/{a,b}.key').test('/x/c.key')).toBe(false);
    expect(globToRegExp('/x/file(1).txt').test('/x/file(1).txt')).toBe(true);
    expect(() => globToRegExp('/x/{a,b')).toThrow('unclosed {');
  });
});
