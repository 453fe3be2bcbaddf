/** Display helpers for process facts (pure, shared by tables, the detail page and the tree). */

const SIGNALS: Record<number, string> = {
  1: 'SIGHUP', 2: 'SIGINT', 3: 'SIGQUIT', 4: 'SIGILL', 5: 'SIGTRAP', 6: 'SIGABRT', 7: 'SIGBUS', 8: 'SIGFPE',
  9: 'SIGKILL', 10: 'SIGUSR1', 11: 'SIGSEGV', 12: 'SIGUSR2', 13: 'SIGPIPE', 14: 'SIGALRM', 15: 'SIGTERM',
  17: 'SIGCHLD', 18: 'SIGCONT', 19: 'SIGSTOP', 20: 'SIGTSTP', 24: 'SIGXCPU', 25: 'SIGXFSZ', 31: 'SIGSYS',
};

export function signalName(signal: number): string {
  return SIGNALS[signal] ?? `signal ${signal}`;
}

export interface ExitFacts {
  exited: boolean;
  exitCode: number | null;
  exitSignal: number | null;
}

/** "running", "exit 0", "exit 3", "killed by SIGKILL (9)". */
export function formatExit(p: ExitFacts): string {
  if (!p.exited) return 'running';
  if (p.exitSignal) return `killed by ${signalName(p.exitSignal)} (${p.exitSignal})`;
  return `exit ${p.exitCode ?? 0}`;
}

/**
 * Like formatExit, for an image in a chain: exec replaces the image in its pid without an exit, so
 * an image whose successor runs in the same pid has ended there ("exec'd sleep"), not "running".
 */
export function formatImageEnd(p: ExitFacts & { pid: number }, successor?: { pid: number; binary: string } | null): string {
  if (!p.exited && successor && successor.pid === p.pid) return `exec'd ${basename(successor.binary)}`;
  return formatExit(p);
}

export function formatUser(uid: number): string {
  return uid === 0 ? '0 (root)' : String(uid);
}

export interface ContainerFacts {
  runtime: string;
  containerId: string;
  podName: string;
  namespace: string;
}

/** "docker 3f9a1c2b7d4e", "kube-system/coredns-5d7 (containerd 3f9a…)", or "host". */
export function formatContainer(c: ContainerFacts): string {
  const container = c.containerId ? `${c.runtime || 'container'} ${c.containerId.slice(0, 12)}` : c.runtime;
  if (c.podName) return `${c.namespace ? `${c.namespace}/` : ''}${c.podName}${container ? ` (${container})` : ''}`;
  return container || 'host';
}

/**
 * argv as a shell would need it typed: words with spaces or quotes are single-quoted, so
 * `sh -c 'exec sleep 2'` is not confused with `sh -c exec sleep 2`.
 */
export function formatArgv(argv: readonly string[]): string {
  return argv.map((arg) => (arg !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`)).join(' ');
}

export function basename(path: string): string {
  return path.split('/').filter(Boolean).at(-1) ?? path;
}

/** Link to a process page; exec ids contain colons, so they are always encoded. */
export function processHref(execId: string): string {
  return `/processes/${encodeURIComponent(execId)}`;
}
