/**
 * The sensor CLI's first-seen facts settings: which facts are off (--facts-off), the counters
 * period (--counters-interval-s) and the sensitive path classes (--path-classes FILE). Parsed and
 * validated here, before anything is loaded, so a bad setting stops the sensor with a reason
 * instead of a half-configured kernel side.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { compilePathClasses, type FactsOptions } from './facts';
import type { PathClass } from './paths';

/** The names --facts-off takes, and what each switches off. */
export const FACT_SWITCHES = {
  /** the per-image syscall bitmap */
  syscalls: { syscalls: false },
  /** io_uring opcodes and ring creation */
  io_uring: { ioUring: false },
  /** remote endpoints, outbound and inbound */
  endpoints: { endpoints: false, inbound: false },
  /** inbound endpoints only */
  inbound: { inbound: false },
  /** opens of sensitive path classes */
  files: { files: false },
  /** activity counters */
  counters: { countersIntervalMs: 0 },
} as const satisfies Record<string, FactsOptions>;

export type FactSwitch = keyof typeof FACT_SWITCHES;

export class FactsFlagError extends Error {}

/** "syscalls,files" -> the options that switch those off; "" -> nothing off. */
export function factsOff(list: string): FactsOptions {
  const out: FactsOptions = {};
  for (const name of list.split(',').map((s) => s.trim()).filter(Boolean)) {
    if (!(name in FACT_SWITCHES)) {
      throw new FactsFlagError(`--facts-off: unknown fact "${name}" (one of ${Object.keys(FACT_SWITCHES).join(', ')})`);
    }
    Object.assign(out, FACT_SWITCHES[name as FactSwitch]);
  }
  return out;
}

const pathClassesSchema = z
  .array(
    z.strictObject({
      name: z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'a class name is lower-case letters, digits and _ (at most 64)'),
      patterns: z.array(z.string().min(1).max(4096)).min(1).max(256),
    }),
  )
  .min(1)
  .max(64);

/**
 * Path classes from a JSON file: `[{ "name": "service_account_token", "patterns": ["..."] }]`
 * (the shape of DEFAULT_PATH_CLASSES; patterns as documented in paths.ts). Checked as the kernel
 * will use them: every pattern valid, the probes fitting the kernel's tables.
 */
export function readPathClasses(file: string): PathClass[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new FactsFlagError(`--path-classes: cannot read ${file}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new FactsFlagError(`--path-classes: ${file} is not JSON: ${(e as Error).message}`);
  }
  const parsed = pathClassesSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new FactsFlagError(`--path-classes: ${file}: ${issue.path.length ? `at ${issue.path.join('.')}: ` : ''}${issue.message}`);
  }
  const names = parsed.data.map((c) => c.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice) throw new FactsFlagError(`--path-classes: ${file}: class "${twice}" appears twice`);
  try {
    compilePathClasses(parsed.data);
  } catch (e) {
    throw new FactsFlagError(`--path-classes: ${file}: ${(e as Error).message}`);
  }
  return parsed.data;
}
