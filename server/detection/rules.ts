import type { Severity } from '../../db/repositories/indicators';
import type { FactInput } from './inputs';

/**
 * Known-bad rules: behaviour worth an indicator whatever the baseline says, so they also fire
 * while a profile is still learning (and what they flag is never learned: only an analyst's allow
 * makes it normal). Each rule is a few readable lines; each has its own test (rules.test.ts).
 */

/** What a rule sees: the fact (or exec) and what the detector knows around it. */
export interface RuleContext {
  workload: string;
  executable: string;
  /** the fact, or for an exec: kind 'exec' and the executable started */
  kind: FactInput['kind'];
  value: string;
  ioUring: boolean;
  pathClass: string;
  /** any profile of the workload has an io_uring entry (learned, imported or allowed) */
  workloadUsedIoUring: boolean;
  /** for execs: the image that started this one, when known */
  parent: { executable: string; servesNetwork: boolean } | null;
  /** the image was found running at sensor start (its start was not seen) */
  seeded: boolean;
}

export interface Rule {
  id: string;
  title: string;
  severity: Severity;
  /** Why it fires, in words (null: it does not). */
  check(ctx: RuleContext): string | null;
}

/** Shells: what an attacker wants after a remote code execution. */
const SHELLS = new Set(['sh', 'bash', 'dash', 'ash', 'zsh', 'ksh', 'mksh', 'csh', 'tcsh', 'fish', 'busybox']);
/** Path classes holding credentials a process can use to act as someone (default classes: sensor/src/kernel/paths.ts). */
const TOKEN_CLASSES = new Set(['service_account_token', 'kube_config', 'cloud_credentials']);

export const basename = (path: string) => path.slice(path.lastIndexOf('/') + 1);

export const RULES: readonly Rule[] = [
  {
    id: 'io_uring-first-use',
    title: 'io_uring in a workload that never used it',
    severity: 'high',
    // io_uring lets a process open, read, connect and send without making those syscalls:
    // syscall-based monitoring then sees only io_uring_setup / io_uring_enter. A workload whose
    // profile has io_uring (learned, imported or allowed) does not fire this.
    check: (c) =>
      c.ioUring && !c.workloadUsedIoUring
        ? `${basename(c.executable)} used io_uring (${c.value}) and no profile of ${c.workload} has ever included io_uring`
        : null,
  },
  {
    id: 'shell-from-server',
    title: 'a shell spawned by a server process',
    severity: 'high',
    // A server is an image that accepted network connections (an inbound endpoint fact). A
    // shell started by one is the classic sign of remote code execution.
    check: (c) =>
      c.kind === 'exec' && !c.seeded && SHELLS.has(basename(c.value)) && c.parent?.servesNetwork
        ? `${basename(c.parent.executable)}, which serves network clients, started the shell ${c.value}`
        : null,
  },
  {
    id: 'token-read',
    title: 'a token file read',
    severity: 'high',
    check: (c) => (c.kind === 'file' && TOKEN_CLASSES.has(c.pathClass) ? `${basename(c.executable)} opened ${c.value} (${c.pathClass.replace(/_/g, ' ')})` : null),
  },
];

export interface RuleHit {
  id: string;
  title: string;
  severity: Severity;
  reason: string;
}

export function evaluateRules(ctx: RuleContext, rules: readonly Rule[] = RULES): RuleHit[] {
  const hits: RuleHit[] = [];
  for (const rule of rules) {
    const reason = rule.check(ctx);
    if (reason !== null) hits.push({ id: rule.id, title: rule.title, severity: rule.severity, reason });
  }
  return hits;
}

/**
 * Severity of a fact outside a completed profile (rules may raise it):
 *   io_uring opcode, or an io_uring_* syscall    high    (the shape of the reference attack)
 *   other syscall                                 medium
 *   executable started                            medium
 *   sensitive file                                medium
 *   outbound endpoint                             medium
 *   inbound endpoint (a new service port)         low
 */
export function deviationSeverity(kind: FactInput['kind'], value: string, ioUring: boolean): Severity {
  if (kind === 'io_uring_op' || (kind === 'syscall' && ioUring)) return 'high';
  if (kind === 'endpoint' && value.endsWith(' inbound')) return 'low';
  return 'medium';
}

const RANK: Record<Severity, number> = { low: 1, medium: 2, high: 3 };

export function maxSeverity(...severities: Severity[]): Severity {
  return severities.reduce((a, b) => (RANK[b] > RANK[a] ? b : a), 'low');
}
