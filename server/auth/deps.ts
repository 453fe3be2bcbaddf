import type { Db } from '../../db/client';
import type { AuthConfig } from './config';

/** What the authentication code needs; tests inject a clock and a configuration. */
export interface AuthDeps {
  db: Db;
  /** Wall clock, nanoseconds. */
  now: () => bigint;
  config: AuthConfig;
}

/** Activity (last use) is written at most this often per session or token. */
export const ACTIVITY_WRITE_INTERVAL_NS = 60_000_000_000n;
