/**
 * Sensitive file classes: what a path holds (a service-account token, the shadow file, cloud or
 * SSH credentials, a container runtime's socket, another process's memory...), why, and how
 * much it matters.
 *
 * Paths are matched as the process named them, normalised (`//`, `.`, `..` collapsed), and with
 * `/var/run` read as `/run` (it is a symlink to it on current distributions). Symlink targets
 * are not followed: the sensor reports the path that was opened. Kubernetes projects service
 * account tokens through a timestamped directory (`..2024_01_01_00_00_00.123/token`, reached
 * through the `..data` and `token` symlinks); every form is recognised.
 *
 * Globs: `*` matches within one path segment, `**` across segments, `?` one character,
 * `{a,b}` either alternative. Extra patterns from configuration are tried before the built-in
 * ones (so an operator can reclassify a path); within each list the first match wins.
 *
 * Limits: a credential copied elsewhere under an unremarkable name is not recognised; home
 * directories are matched anywhere (`**\/.aws/credentials`), which also covers container roots.
 */
import type { Severity } from './types';

export type FileClassName =
  | 'service_account_token'
  | 'kubernetes_ca'
  | 'kubernetes_namespace'
  | 'kube_config'
  | 'kubernetes_node_credentials'
  | 'shadow'
  | 'cloud_credentials'
  | 'ssh_key'
  | 'ssh_authorized_keys'
  | 'tls_private_key'
  | 'docker_config'
  | 'browser_credentials'
  | 'credential_cache'
  | 'container_runtime_socket'
  | 'process_environ'
  | 'process_memory';

export interface FileClassVerdict {
  path: string;
  /** the path as matched (normalised, /var/run read as /run) */
  normalizedPath: string;
  /** a built-in class, or a configured one */
  class: FileClassName | string;
  severity: Severity;
  reason: string;
  /** the glob that matched */
  pattern: string;
  /** aws | gcloud | azure for cloud credentials and cloud-issued tokens */
  provider?: string;
  source: 'builtin' | 'config';
}

export interface ExtraFilePattern {
  class: string;
  pattern: string;
  severity?: Severity;
  /** shown to the analyst; defaults to "matched configured pattern …" */
  reason?: string;
}

export interface FileClassContext {
  /** pid of the process that accessed the path (tells its own /proc entries from another's) */
  pid?: number;
}

interface Rule {
  class: FileClassName;
  patterns: string[];
  severity: Severity;
  /** what the file is, for the reason */
  what: string;
  provider?: string;
}

const RULES: readonly Rule[] = [
  {
    class: 'service_account_token', severity: 'high', what: 'Kubernetes service-account token: a bearer credential for the API server',
    patterns: ['/run/secrets/kubernetes.io/serviceaccount/{token,..*/token}'],
  },
  {
    class: 'service_account_token', severity: 'high', provider: 'aws', what: 'AWS IRSA web-identity token: exchanged for the pod role\'s AWS credentials',
    patterns: ['/run/secrets/eks.amazonaws.com/serviceaccount/{token,..*/token}'],
  },
  {
    class: 'service_account_token', severity: 'high', provider: 'azure', what: 'Azure workload-identity token: exchanged for an Entra ID access token',
    patterns: ['/run/secrets/azure/tokens/{azure-identity-token,..*/azure-identity-token}'],
  },
  {
    class: 'service_account_token', severity: 'high', what: 'projected service-account token (a bearer credential) mounted outside the default path',
    patterns: ['**/serviceaccount/{token,..*/token}', '/run/secrets/tokens/**'],
  },
  {
    class: 'kubernetes_ca', severity: 'low', what: 'Kubernetes cluster CA certificate (public, but read by API clients together with the token)',
    patterns: ['**/serviceaccount/{ca.crt,..*/ca.crt}', '/etc/kubernetes/pki/ca.crt'],
  },
  {
    class: 'kubernetes_namespace', severity: 'info', what: 'the pod\'s namespace name from its service-account mount (read by API clients)',
    patterns: ['**/serviceaccount/{namespace,..*/namespace}'],
  },
  {
    class: 'kube_config', severity: 'high', what: 'kubeconfig: cluster addresses and user credentials',
    patterns: ['**/.kube/config', '/etc/kubernetes/{admin,super-admin,kubelet,controller-manager,scheduler}.conf', '/var/lib/kubelet/kubeconfig', '/etc/rancher/{k3s,rke2}/{k3s,rke2}.yaml'],
  },
  {
    class: 'kubernetes_node_credentials', severity: 'high', what: 'Kubernetes node or control-plane key material (kubelet client certificate, cluster PKI, etcd)',
    patterns: ['/var/lib/kubelet/pki/**', '/etc/kubernetes/pki/**', '/var/lib/etcd/**'],
  },
  {
    class: 'shadow', severity: 'high', what: 'password hashes',
    patterns: ['/etc/{shadow,gshadow,shadow-,gshadow-}', '/etc/security/opasswd'],
  },
  {
    class: 'cloud_credentials', severity: 'high', provider: 'aws', what: 'AWS CLI/SDK credentials or cached session tokens',
    patterns: ['**/.aws/{credentials,config}', '**/.aws/{sso,cli}/cache/**'],
  },
  {
    class: 'cloud_credentials', severity: 'high', provider: 'gcloud', what: 'Google Cloud SDK credentials or access tokens',
    patterns: ['**/.config/gcloud/{credentials.db,access_tokens.db,application_default_credentials.json}', '**/.config/gcloud/legacy_credentials/**'],
  },
  {
    class: 'cloud_credentials', severity: 'high', provider: 'azure', what: 'Azure CLI token cache or service-principal secrets',
    patterns: ['**/.azure/{accessTokens.json,msal_token_cache.json,msal_token_cache.bin,service_principal_entries.json,service_principal_entries.bin,azureProfile.json}'],
  },
  {
    class: 'ssh_key', severity: 'high', what: 'SSH private key',
    patterns: ['**/.ssh/id_{rsa,dsa,ecdsa,ed25519,ecdsa_sk,ed25519_sk,xmss}', '/etc/ssh/ssh_host_*_key'],
  },
  {
    class: 'ssh_authorized_keys', severity: 'medium', what: 'SSH authorized keys (writing it grants login: a persistence technique)',
    patterns: ['**/.ssh/authorized_keys{,2}'],
  },
  {
    class: 'tls_private_key', severity: 'high', what: 'TLS/X.509 private key or key store',
    patterns: ['/etc/ssl/private/**', '/etc/pki/tls/private/**', '**/*.key', '**/*-key.pem', '**/*_key.pem', '**/privkey*.pem', '**/*.{p12,pfx,jks,keystore}'],
  },
  {
    class: 'docker_config', severity: 'medium', what: 'container registry credentials',
    patterns: ['**/.docker/config.json', '**/.config/containers/auth.json', '/run/containers/*/auth.json', '/run/user/*/containers/auth.json', '/var/lib/kubelet/config.json'],
  },
  {
    class: 'browser_credentials', severity: 'high', what: 'browser saved passwords, cookies or their encryption key',
    patterns: [
      '**/.mozilla/firefox/*/{logins.json,key4.db,key3.db,cookies.sqlite}',
      '**/.config/{google-chrome,chromium,BraveSoftware/Brave-Browser,microsoft-edge}/*/{Login Data,Cookies,Web Data}',
      '**/.config/{google-chrome,chromium,BraveSoftware/Brave-Browser,microsoft-edge}/Local State',
    ],
  },
  {
    class: 'credential_cache', severity: 'medium', what: 'a tool\'s stored credentials (git, netrc, package registries, Vault, databases, GitHub CLI, Terraform)',
    patterns: [
      '**/.git-credentials', '**/.netrc', '**/.npmrc', '**/.pypirc', '**/.vault-token', '**/.pgpass', '**/.my.cnf',
      '**/.config/gh/hosts.yml', '**/.terraform.d/credentials.tfrc.json', '**/.cargo/credentials{,.toml}', '**/.gem/credentials',
    ],
  },
  {
    class: 'container_runtime_socket', severity: 'high', what: 'container runtime API socket: whoever talks to it controls the node\'s containers',
    patterns: [
      '/run/docker.sock', '/run/containerd/containerd.sock', '/run/k3s/containerd/containerd.sock', '/run/crio/crio.sock',
      '/run/podman/podman.sock', '/run/user/*/podman/podman.sock', '/run/user/*/docker.sock', '/run/cri-dockerd.sock', '/run/dockershim.sock',
    ],
  },
];

/** /proc/<pid>/..., /proc/<pid>/task/<tid>/... */
const PROC_ENTRY = /^\/proc\/(\d+|self|thread-self)(?:\/task\/\d+)?\/(environ|mem)$/;

/** Collapses `//`, `.` and `..`; reads /var/run as /run. */
export function normalizePath(p: string): string {
  const text = collapsePath(p);
  return text === '/var/run' || text.startsWith('/var/run/') ? text.slice(4) : text;
}

function collapsePath(p: string): string {
  const absolute = p.startsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!absolute) out.push('..');
      continue;
    }
    out.push(part);
  }
  const text = (absolute ? '/' : '') + out.join('/');
  return text || (absolute ? '/' : '.');
}

function escapeRegExp(s: string): string {
  return s.replace(/[.+^$()|[\]\\]/g, '\\$&');
}

/** Compiles a glob (see the module comment) to an anchored RegExp. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      // "**/" also matches no directory at all ("**/.kube/config" matches "/.kube/config").
      if (glob[i + 2] === '/') {
        re += '(?:.*/)?';
        i += 2;
      } else {
        re += '.*';
        i += 1;
      }
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '{') {
      const end = glob.indexOf('}', i);
      if (end < 0) throw new Error(`glob ${JSON.stringify(glob)}: unclosed {`);
      re += `(?:${glob.slice(i + 1, end).split(',').map((alt) => globToRegExp(alt).source.slice(1, -1)).join('|')})`;
      i = end;
    } else re += escapeRegExp(c);
  }
  return new RegExp(`^${re}$`);
}

interface CompiledRule {
  rule: Rule | null;
  extra: ExtraFilePattern | null;
  pattern: string;
  re: RegExp;
}

export interface FileClassifier {
  classify(path: string, context?: FileClassContext): FileClassVerdict | null;
}

/** Builds a classifier with optional extra patterns (tried first). Throws on a malformed glob. */
export function createFileClassifier(extra: readonly ExtraFilePattern[] = []): FileClassifier {
  const compiled: CompiledRule[] = [
    ...extra.map((e) => ({ rule: null, extra: e, pattern: e.pattern, re: globToRegExp(normalizeGlob(e.pattern)) })),
    ...RULES.flatMap((rule) => rule.patterns.map((pattern) => ({ rule, extra: null, pattern, re: globToRegExp(pattern) }))),
  ];
  return { classify: (path, context) => classify(compiled, path, context ?? {}) };
}

/** Configured patterns may say /var/run; paths are matched with /run. */
function normalizeGlob(glob: string): string {
  return glob === '/var/run' || glob.startsWith('/var/run/') ? glob.slice(4) : glob;
}

function classify(compiled: readonly CompiledRule[], path: string, context: FileClassContext): FileClassVerdict | null {
  const normalizedPath = normalizePath(path);
  for (const c of compiled) {
    if (!c.re.test(normalizedPath)) continue;
    const aliased = collapsePath(path) !== normalizedPath;
    const how = `matched ${c.pattern}${aliased ? '; /var/run is /run' : ''}`;
    if (c.extra) {
      const reason = c.extra.reason ? `${c.extra.reason} (${how})` : `configured class ${c.extra.class} (${how})`;
      return { path, normalizedPath, class: c.extra.class, severity: c.extra.severity ?? 'medium', reason, pattern: c.pattern, source: 'config' };
    }
    const rule = c.rule!;
    const projected = /\/(\.\.\d{4}_\d\d_\d\d_[\d_.]+)\//.exec(normalizedPath);
    const detail = projected ? `, through kubelet's timestamped projection directory ${projected[1]}` : '';
    return {
      path, normalizedPath, class: rule.class, severity: rule.severity, pattern: c.pattern, source: 'builtin',
      reason: `${rule.what}${detail} (${how})`,
      ...(rule.provider ? { provider: rule.provider } : {}),
    };
  }
  return procEntry(path, normalizedPath, context);
}

/** /proc/<pid>/environ and /proc/<pid>/mem: sensitive when they belong to another process. */
function procEntry(path: string, normalizedPath: string, context: FileClassContext): FileClassVerdict | null {
  const m = PROC_ENTRY.exec(normalizedPath);
  if (!m) return null;
  const [, who, entry] = m;
  const own = who === 'self' || who === 'thread-self' || (context.pid !== undefined && Number(who) === context.pid);
  if (own) return null; // a process reading its own environment or memory is not a credential access
  const unknown = context.pid === undefined ? ' (the accessing process\'s pid is unknown, so it may be its own)' : '';
  const isEnv = entry === 'environ';
  return {
    path, normalizedPath,
    class: isEnv ? 'process_environ' : 'process_memory',
    severity: 'high',
    pattern: `/proc/<pid>/${entry}`,
    source: 'builtin',
    reason: isEnv
      ? `environment of process ${who}: often holds API keys and passwords${unknown}`
      : `memory of process ${who}: reading it exposes everything the process holds, keys included${unknown}`,
  };
}
