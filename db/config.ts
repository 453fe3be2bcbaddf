import path from 'node:path';
import { z } from 'zod';

/**
 * Storage configuration from the environment.
 *   embedded (default): CHDB_PATH, a data directory used by this process only (default ./data/chdb)
 *   server:             CLICKHOUSE_URL (+ CLICKHOUSE_USER, CLICKHOUSE_PASSWORD, CLICKHOUSE_DATABASE)
 *   cluster:            CLICKHOUSE_CLUSTER in addition to CLICKHOUSE_URL
 */
const storageEnvSchema = z.object({
  CHDB_PATH: z.string().min(1).optional(),
  CLICKHOUSE_URL: z.url().optional(),
  CLICKHOUSE_USER: z.string().optional(),
  CLICKHOUSE_PASSWORD: z.string().optional(),
  CLICKHOUSE_DATABASE: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'CLICKHOUSE_DATABASE must be a plain identifier')
    .optional(),
  CLICKHOUSE_CLUSTER: z.string().min(1).optional(),
});

export type StorageConfig =
  | { mode: 'embedded'; chdbPath: string; database: 'default' }
  | { mode: 'server'; url: string; username?: string; password?: string; database: string; cluster: string | null };

export function storageConfigFromEnv(env: NodeJS.ProcessEnv = process.env): StorageConfig {
  const parsed = storageEnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new Error(`invalid storage configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const e = parsed.data;
  if (e.CLICKHOUSE_URL) {
    return {
      mode: 'server',
      url: e.CLICKHOUSE_URL,
      username: e.CLICKHOUSE_USER,
      password: e.CLICKHOUSE_PASSWORD,
      database: e.CLICKHOUSE_DATABASE ?? 'soc',
      cluster: e.CLICKHOUSE_CLUSTER ?? null,
    };
  }
  if (e.CLICKHOUSE_CLUSTER) throw new Error('CLICKHOUSE_CLUSTER needs CLICKHOUSE_URL (a cluster is reached through a server)');
  // turbopackIgnore: the path is chosen at run time; without the hint Next's file tracing would
  // try to follow it and trace the whole project into the build.
  return { mode: 'embedded', chdbPath: path.resolve(/* turbopackIgnore: true */ process.cwd(), e.CHDB_PATH ?? 'data/chdb'), database: 'default' };
}
