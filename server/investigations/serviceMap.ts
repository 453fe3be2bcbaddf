import fs from 'node:fs';
import { parse as parseYaml } from 'yaml';
import {
  createServiceMap,
  parseServiceMapConfig,
  serviceMapFromKubernetes,
  ServiceMapConfigError,
  type ServiceMap,
  type ServiceMapEntry,
} from '../analyzers';
import { nowNs } from '../../db/time';

/**
 * The service map the investigations use (destination → internal service name), from the files
 * in SERVICE_MAP_FILE (comma-separated). Each file is either
 *   - a service map document (YAML or JSON: `services: [{ name, cidr | address, port?, protocol?, namespace? }]`), or
 *   - the JSON output of `kubectl get svc,endpointslices -A -o json` (a List; a bare array too),
 * told apart by its shape (`items` or an array: Kubernetes). Files are read when first needed and
 * again whenever one changes (size or modification time), or on an admin's reload. A file that
 * fails to load keeps what it loaded before (if anything) and its error is shown.
 */

export interface ServiceMapSourceState {
  file: string;
  format: 'config' | 'kubernetes' | 'unknown';
  entries: number;
  /** Kubernetes items left out, with why */
  skipped: string[];
  loadedAtNs: string | null;
  error: string | null;
}

export interface ServiceMapState {
  /** SERVICE_MAP_FILE as configured ('' when unset) */
  configured: string;
  sources: ServiceMapSourceState[];
  entries: ServiceMapEntry[];
  loadedAtNs: string | null;
}

interface SourceCache {
  stamp: string;
  state: ServiceMapSourceState;
  entries: ServiceMapEntry[];
}

interface Loaded {
  configured: string;
  sources: Map<string, SourceCache>;
  map: ServiceMap;
  entries: ServiceMapEntry[];
  loadedAtNs: string | null;
}

const KEY = Symbol.for('soc.cockpit.serviceMap');
type GlobalWithMap = typeof globalThis & { [KEY]?: Loaded };

function filesOf(configured: string): string[] {
  return configured
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean);
}

function stampOf(file: string): string {
  try {
    const st = fs.statSync(file);
    return `${st.size}:${st.mtimeMs}`;
  } catch (err) {
    return `missing:${(err as NodeJS.ErrnoException).code ?? 'error'}`;
  }
}

/** Loads one file: its entries, or an error (the previous entries are kept by the caller). */
export function loadServiceMapFile(file: string): { format: ServiceMapSourceState['format']; entries: ServiceMapEntry[]; skipped: string[] } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ServiceMapConfigError([`cannot read ${file}: ${(err as Error).message}`], 'service map file');
  }
  let document: unknown;
  try {
    document = text.trimStart().startsWith('{') || text.trimStart().startsWith('[') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ServiceMapConfigError([`cannot parse ${file}: ${(err as Error).message}`], 'service map file');
  }
  if (Array.isArray(document) || (document !== null && typeof document === 'object' && 'items' in document)) {
    const { entries, skipped } = serviceMapFromKubernetes(document);
    return { format: 'kubernetes', entries, skipped };
  }
  return { format: 'config', entries: parseServiceMapConfig(document), skipped: [] };
}

function load(configured: string, previous: Loaded | undefined, force: boolean): Loaded {
  const sources = new Map<string, SourceCache>();
  let changed = !previous || previous.configured !== configured;
  for (const file of filesOf(configured)) {
    const stamp = stampOf(file);
    const before = previous?.sources.get(file);
    if (before && before.stamp === stamp && !force) {
      sources.set(file, before);
      continue;
    }
    changed = true;
    try {
      const loaded = loadServiceMapFile(file);
      sources.set(file, {
        stamp,
        entries: loaded.entries,
        state: { file, format: loaded.format, entries: loaded.entries.length, skipped: loaded.skipped.slice(0, 50), loadedAtNs: nowNs().toString(), error: null },
      });
    } catch (err) {
      const message = err instanceof ServiceMapConfigError ? err.issues.join('; ') : (err as Error).message;
      sources.set(file, {
        stamp,
        entries: before?.entries ?? [],
        state: { file, format: before?.state.format ?? 'unknown', entries: before?.entries.length ?? 0, skipped: before?.state.skipped ?? [], loadedAtNs: before?.state.loadedAtNs ?? null, error: message },
      });
    }
  }
  if (!changed && previous) return previous;
  const entries = [...sources.values()].flatMap((s) => s.entries);
  return { configured, sources, map: createServiceMap(entries), entries, loadedAtNs: nowNs().toString() };
}

function current(env: Record<string, string | undefined>, force = false): Loaded {
  const g = globalThis as GlobalWithMap;
  const configured = env.SERVICE_MAP_FILE ?? '';
  const loaded = load(configured, g[KEY], force);
  g[KEY] = loaded;
  return loaded;
}

function stateOf(l: Loaded): ServiceMapState {
  return { configured: l.configured, sources: [...l.sources.values()].map((s) => s.state), entries: l.entries, loadedAtNs: l.loadedAtNs };
}

/** The map in force (files re-read when they changed) and its state. */
export function getServiceMap(env: Record<string, string | undefined> = process.env): { map: ServiceMap; state: ServiceMapState } {
  const l = current(env);
  return { map: l.map, state: stateOf(l) };
}

/** Reads every file again (an admin's reload). The state says which file failed and why. */
export function reloadServiceMap(env: Record<string, string | undefined> = process.env): ServiceMapState {
  return stateOf(current(env, true));
}
