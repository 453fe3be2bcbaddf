import fs from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { IndicatorKind } from '../../db/repositories/indicators';

/**
 * The cockpit's zoom policy: which probes, for how long and with what event budget an indicator
 * is zoomed on (by its kind and severity), which severities zoom automatically, and the bounds
 * every order — automatic or an analyst's — must stay within. The sensor has bounds of its own
 * (sensor/src/zoom/policy.ts) and refuses what exceeds them whoever asks; these are the cockpit's,
 * usually tighter.
 *
 * Configuration: ZOOM_POLICY_FILE (YAML or JSON, every field optional, merged over the defaults
 * below; `rules` replaces the default rules when given), then ZOOM_AUTO (`on`/`off`) and
 * ZOOM_MAX_TTL (a duration: `600s`, `10m`) override. Documented in docs/OPERATIONS.md.
 */

export const PROBE_NAMES = ['IO_URING', 'NETWORK', 'FILES', 'CODE', 'CHILDREN'] as const;
export type ProbeName = (typeof PROBE_NAMES)[number];

/** Indicator severities (the detector's) plus critical, which rules may raise in future. */
export const POLICY_SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type PolicySeverity = (typeof POLICY_SEVERITIES)[number];

export const INDICATOR_KINDS: readonly IndicatorKind[] = ['syscall', 'io_uring_op', 'exec', 'endpoint', 'file'];

export interface ZoomRule {
  /** indicator kind, or '*' */
  kind: IndicatorKind | '*';
  /** indicator severity, or '*' */
  severity: PolicySeverity | '*';
  probes: ProbeName[];
  ttlSeconds: number;
  maxEvents: number;
}

export interface ZoomPolicy {
  /** automatic zoom-ins at all (ZOOM_AUTO) */
  auto: boolean;
  /** severities that zoom by themselves (default high and critical) */
  autoSeverities: PolicySeverity[];
  /** probe sets any order may ask for */
  allowedProbes: ProbeName[];
  /** the longest zoom the cockpit orders (ZOOM_MAX_TTL); the sensor's own maximum may be lower */
  maxTtlSeconds: number;
  /** the largest event budget the cockpit orders */
  maxEvents: number;
  /** payload bytes captured per send/receive (≤ 256, the sensor's maximum) */
  payloadPrefixBytes: number;
  /** events per second of one zoom (0: the sensor's default) */
  maxEventsPerSecond: number;
  /** what an analyst's order uses when it does not say */
  manual: { probes: ProbeName[]; ttlSeconds: number; maxEvents: number };
  /** indicator kind × severity → probes, TTL and budget; the first matching rule wins */
  rules: ZoomRule[];
}

const ALL_BUT_CHILDREN: ProbeName[] = ['IO_URING', 'NETWORK', 'FILES', 'CODE'];

/** The defaults (docs/OPERATIONS.md lists them). */
export const DEFAULT_ZOOM_POLICY: ZoomPolicy = {
  auto: true,
  autoSeverities: ['high', 'critical'],
  allowedProbes: [...PROBE_NAMES],
  maxTtlSeconds: 600,
  maxEvents: 200_000,
  payloadPrefixBytes: 128,
  maxEventsPerSecond: 0,
  manual: { probes: ALL_BUT_CHILDREN, ttlSeconds: 120, maxEvents: 20_000 },
  rules: [
    // A shell or other executable started where none was expected: follow what it starts.
    { kind: 'exec', severity: 'high', probes: [...ALL_BUT_CHILDREN, 'CHILDREN'], ttlSeconds: 300, maxEvents: 50_000 },
    { kind: 'exec', severity: 'critical', probes: [...ALL_BUT_CHILDREN, 'CHILDREN'], ttlSeconds: 300, maxEvents: 50_000 },
    // The reference attack's shape (io_uring, a token read): everything the ring can hide.
    { kind: '*', severity: 'critical', probes: ALL_BUT_CHILDREN, ttlSeconds: 300, maxEvents: 50_000 },
    { kind: '*', severity: 'high', probes: ALL_BUT_CHILDREN, ttlSeconds: 300, maxEvents: 50_000 },
    // Manual zooms on lower severities start from these (they never zoom by themselves by default).
    { kind: 'endpoint', severity: 'medium', probes: ['NETWORK', 'CODE'], ttlSeconds: 120, maxEvents: 10_000 },
    { kind: '*', severity: 'medium', probes: ALL_BUT_CHILDREN, ttlSeconds: 120, maxEvents: 10_000 },
    { kind: '*', severity: 'low', probes: ['NETWORK', 'CODE'], ttlSeconds: 60, maxEvents: 5_000 },
  ],
};

const probeList = z.array(z.enum(PROBE_NAMES)).min(1, 'at least one probe set').refine((l) => new Set(l).size === l.length, 'no probe set twice');
const ttl = z.number().int('whole seconds').min(1).max(86_400);
const budget = z.number().int().min(1).max(10_000_000);

const ruleSchema = z.strictObject({
  kind: z.enum(['*', ...INDICATOR_KINDS] as [string, ...string[]]).default('*'),
  severity: z.enum(['*', ...POLICY_SEVERITIES]).default('*'),
  probes: probeList,
  ttlSeconds: ttl,
  maxEvents: budget,
});

const fileSchema = z.strictObject({
  auto: z.boolean().optional(),
  autoSeverities: z.array(z.enum(POLICY_SEVERITIES)).optional(),
  allowedProbes: z.array(z.enum(PROBE_NAMES)).optional(),
  maxTtlSeconds: ttl.optional(),
  maxEvents: budget.optional(),
  payloadPrefixBytes: z.number().int().min(0).max(256).optional(),
  maxEventsPerSecond: z.number().int().min(0).max(1_000_000).optional(),
  manual: z.strictObject({ probes: probeList, ttlSeconds: ttl, maxEvents: budget }).partial().optional(),
  rules: z.array(ruleSchema).optional(),
});

export class ZoomPolicyError extends Error {
  override readonly name = 'ZoomPolicyError';
}

/** Durations like `90s`, `10m`, `1h` (or bare seconds) → seconds. */
export function parseDurationSeconds(text: string, what: string): number {
  const m = /^(\d+)\s*(s|m|h)?$/.exec(text.trim());
  if (!m) throw new ZoomPolicyError(`${what}: "${text}" is not a duration (e.g. 600s, 10m, 1h)`);
  return Number(m[1]) * (m[2] === 'h' ? 3600 : m[2] === 'm' ? 60 : 1);
}

/**
 * The policy from a document (already parsed) and the environment, over the defaults. Throws
 * ZoomPolicyError naming every bad field.
 */
export function buildZoomPolicy(document: unknown, env: Record<string, string | undefined> = {}): ZoomPolicy {
  const parsed = fileSchema.safeParse(document ?? {});
  if (!parsed.success) {
    throw new ZoomPolicyError(`zoom policy is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'document'}: ${i.message}`).join('; ')}`);
  }
  const doc = parsed.data;
  const policy: ZoomPolicy = {
    ...DEFAULT_ZOOM_POLICY,
    ...Object.fromEntries(Object.entries(doc).filter(([k, v]) => v !== undefined && k !== 'manual' && k !== 'rules')),
    manual: { ...DEFAULT_ZOOM_POLICY.manual, ...(doc.manual ?? {}) },
    rules: (doc.rules as ZoomRule[] | undefined) ?? DEFAULT_ZOOM_POLICY.rules,
  } as ZoomPolicy;
  if (env.ZOOM_AUTO !== undefined && env.ZOOM_AUTO !== '') {
    if (!/^(on|off|true|false|1|0)$/i.test(env.ZOOM_AUTO)) throw new ZoomPolicyError(`ZOOM_AUTO must be on or off, got "${env.ZOOM_AUTO}"`);
    policy.auto = /^(on|true|1)$/i.test(env.ZOOM_AUTO);
  }
  if (env.ZOOM_MAX_TTL) policy.maxTtlSeconds = parseDurationSeconds(env.ZOOM_MAX_TTL, 'ZOOM_MAX_TTL');
  checkConsistent(policy);
  return policy;
}

function checkConsistent(p: ZoomPolicy): void {
  const problems: string[] = [];
  const within = (what: string, probes: ProbeName[], ttlSeconds: number, maxEvents: number) => {
    const banned = probes.filter((x) => !p.allowedProbes.includes(x));
    if (banned.length > 0) problems.push(`${what}: probe sets ${banned.join(', ')} are not in allowedProbes`);
    if (ttlSeconds > p.maxTtlSeconds) problems.push(`${what}: ttlSeconds ${ttlSeconds} exceeds maxTtlSeconds ${p.maxTtlSeconds}`);
    if (maxEvents > p.maxEvents) problems.push(`${what}: maxEvents ${maxEvents} exceeds maxEvents ${p.maxEvents}`);
  };
  within('manual', p.manual.probes, p.manual.ttlSeconds, p.manual.maxEvents);
  p.rules.forEach((r, i) => within(`rules[${i}] (${r.kind} × ${r.severity})`, r.probes, r.ttlSeconds, r.maxEvents));
  if (problems.length > 0) throw new ZoomPolicyError(`zoom policy is inconsistent: ${problems.join('; ')}`);
}

/** What an indicator of this kind and severity gets: the first matching rule, or null. */
export function ruleFor(policy: ZoomPolicy, kind: IndicatorKind, severity: PolicySeverity): ZoomRule | null {
  return policy.rules.find((r) => (r.kind === '*' || r.kind === kind) && (r.severity === '*' || r.severity === severity)) ?? null;
}

/** The automatic zoom for an indicator, or why there is none. */
export function autoZoomFor(
  policy: ZoomPolicy,
  indicator: { kind: IndicatorKind; severity: PolicySeverity },
): { zoom: ZoomRule } | { zoom: null; why: string } {
  if (!policy.auto) return { zoom: null, why: 'automatic zoom-ins are off (ZOOM_AUTO)' };
  if (!policy.autoSeverities.includes(indicator.severity)) {
    return { zoom: null, why: `severity ${indicator.severity} does not zoom automatically (autoSeverities: ${policy.autoSeverities.join(', ') || 'none'})` };
  }
  const rule = ruleFor(policy, indicator.kind, indicator.severity);
  return rule ? { zoom: rule } : { zoom: null, why: `no rule for ${indicator.kind} × ${indicator.severity}` };
}

/** Problems of a manual order against the policy (empty: fine). Field names as the API's. */
export function manualOrderProblems(policy: ZoomPolicy, order: { probes: readonly string[]; ttlSeconds: number; maxEvents?: number }): Array<{ path: string; message: string }> {
  const problems: Array<{ path: string; message: string }> = [];
  const banned = order.probes.filter((p) => !(policy.allowedProbes as readonly string[]).includes(p));
  if (banned.length > 0) {
    problems.push({ path: 'probes', message: `${banned.join(', ')} not allowed by the cockpit's zoom policy (allowed: ${policy.allowedProbes.join(', ')})` });
  }
  if (order.ttlSeconds > policy.maxTtlSeconds) {
    problems.push({ path: 'ttlSeconds', message: `at most ${policy.maxTtlSeconds} (the cockpit's maximum zoom length)` });
  }
  if (order.maxEvents !== undefined && order.maxEvents > policy.maxEvents) {
    problems.push({ path: 'maxEvents', message: `at most ${policy.maxEvents} (the cockpit's maximum event budget)` });
  }
  return problems;
}

const CACHE_KEY = Symbol.for('soc.cockpit.zoomPolicy');
type GlobalWithPolicy = typeof globalThis & { [CACHE_KEY]?: { key: string; policy: ZoomPolicy } };

/**
 * The policy in force: ZOOM_POLICY_FILE (re-read when it changes) and the environment. A file
 * that cannot be read or is invalid throws ZoomPolicyError: orders are refused (503) rather
 * than made under a policy nobody wrote.
 */
export function zoomPolicy(env: Record<string, string | undefined> = process.env): ZoomPolicy {
  const file = env.ZOOM_POLICY_FILE ?? '';
  let stamp = '';
  if (file) {
    try {
      const st = fs.statSync(/*turbopackIgnore: true*/ file);
      stamp = `${st.mtimeMs}:${st.size}`;
    } catch (err) {
      throw new ZoomPolicyError(`ZOOM_POLICY_FILE ${file} cannot be read: ${(err as Error).message}`);
    }
  }
  const key = `${file}|${stamp}|${env.ZOOM_AUTO ?? ''}|${env.ZOOM_MAX_TTL ?? ''}`;
  const g = globalThis as GlobalWithPolicy;
  if (g[CACHE_KEY]?.key === key) return g[CACHE_KEY].policy;
  let document: unknown = {};
  if (file) {
    // The file is the operator's (ZOOM_POLICY_FILE), not part of the build: keep tracing out of it.
    const text = fs.readFileSync(/*turbopackIgnore: true*/ file, 'utf8');
    try {
      document = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
    } catch (err) {
      throw new ZoomPolicyError(`ZOOM_POLICY_FILE ${file}: ${(err as Error).message}`);
    }
  }
  const policy = buildZoomPolicy(document, env);
  g[CACHE_KEY] = { key, policy };
  return policy;
}
