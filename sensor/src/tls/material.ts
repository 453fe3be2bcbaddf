import { readFileSync } from 'node:fs';
import type { TlsMaterial } from '../grpc/server';

/** Where the CA, certificate and key of one side live. */
export interface TlsPaths {
  ca: string;
  cert: string;
  key: string;
}

/**
 * Reads the three paths from `${prefix}_CA`, `${prefix}_CERT`, `${prefix}_KEY` (e.g. SENSOR_TLS,
 * COCKPIT_TLS). Returns null when none is set; throws naming what is missing when only some are.
 * Paths come from the environment only: no certificate or key file name is written in code.
 */
export function tlsPathsFromEnv(prefix: string, env: Record<string, string | undefined> = process.env): TlsPaths | null {
  const ca = env[`${prefix}_CA`];
  const cert = env[`${prefix}_CERT`];
  const key = env[`${prefix}_KEY`];
  if (!ca && !cert && !key) return null;
  const missing = [!ca && `${prefix}_CA`, !cert && `${prefix}_CERT`, !key && `${prefix}_KEY`].filter(Boolean);
  if (missing.length > 0) throw new Error(`incomplete TLS configuration: ${missing.join(', ')} not set`);
  return { ca: ca!, cert: cert!, key: key! };
}

/** Reads the PEM files, with an error that says which one could not be read. */
export function readTlsMaterial(paths: TlsPaths): TlsMaterial {
  const read = (what: string, file: string) => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new Error(`cannot read TLS ${what} ${file}: ${(err as Error).message}`);
    }
  };
  return { ca: read('CA', paths.ca), cert: read('certificate', paths.cert), key: read('key', paths.key) };
}
