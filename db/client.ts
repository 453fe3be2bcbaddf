import fs from 'node:fs';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { storageConfigFromEnv, type StorageConfig } from './config';
import { migrate } from './migrate';

type ClientConnection = NonNullable<NonNullable<Parameters<typeof createClient>[0]>['connection']>;

/** A storage handle: the same @clickhouse/client API whether the engine is embedded or a server. */
export interface Db {
  client: ClickHouseClient;
  mode: 'embedded' | 'server';
  /** Cluster name when the schema is clustered (Replicated + Distributed), else null. */
  cluster: string | null;
  database: string;
  /** Where the data lives (directory or URL), for status pages and error messages. */
  location: string;
  /**
   * Embedded only: chDB's zero-copy insert of an NDJSON Buffer (the generic connection splices the
   * body into the SQL text instead). Used by the ingest hot path; see db/query.ts.
   */
  rawInsert?: (params: { table: string; values: Buffer; format: 'JSONEachRow'; settings?: Record<string, string | number> }) => Promise<unknown>;
  /**
   * Embedded only: runs one statement straight on the engine's session, result discarded (the
   * ingest path's `INSERT … SELECT FROM file(…)`; see db/query.ts). Settings belong inline in the
   * SQL: chDB's client turns `clickhouse_settings` into `SET …`, which stays on the session.
   */
  rawExec?: (sql: string) => Promise<void>;
}

/** Raised when storage cannot be reached or opened; the API turns it into a clear 503. */
export class StorageUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StorageUnavailableError';
  }
}

/**
 * Opens storage and applies migrations.
 *
 * Embedded: chDB runs the ClickHouse engine in this process on one directory. chDB allows one
 * engine per process and one process per directory (a second one fails with "Cannot lock file
 * …/status"), so each process — dev server, e2e server, each test file — needs its own directory.
 */
export async function openDb(config: StorageConfig, options: { migrate?: boolean } = {}): Promise<Db> {
  let db: Db;
  if (config.mode === 'embedded') {
    fs.mkdirSync(config.chdbPath, { recursive: true });
    // Imported lazily: chDB loads a 500 MB native library; nothing should pay for it at import time.
    const { createChdbConnection } = await import('chdb/connection');
    let client: ClickHouseClient;
    try {
      // The cast bridges two copies of the same @clickhouse/client-common types (chdb bundles its own).
      const chdbConnection = createChdbConnection({ path: config.chdbPath });
      client = createClient({ connection: chdbConnection as unknown as ClientConnection });
      await client.query({ query: 'SELECT 1', format: 'JSONEachRow' }).then((r) => r.json());
      db = {
        client,
        mode: 'embedded',
        cluster: null,
        database: config.database,
        location: config.chdbPath,
        rawInsert: (params) => chdbConnection.chdb.rawInsert(params),
        rawExec: async (sql) => {
          await chdbConnection.chdb.queryAsync(sql);
        },
      };
    } catch (error) {
      throw new StorageUnavailableError(`cannot open embedded ClickHouse (chDB) at ${config.chdbPath}: ${describe(error)}`, {
        cause: error,
      });
    }
  } else {
    try {
      const bootstrap = createClient({ url: config.url, username: config.username, password: config.password });
      const onCluster = config.cluster ? ` ON CLUSTER '${config.cluster.replace(/'/g, "\\'")}'` : '';
      await bootstrap.command({ query: `CREATE DATABASE IF NOT EXISTS ${config.database}${onCluster}` });
      await bootstrap.close();
    } catch (error) {
      throw new StorageUnavailableError(`cannot reach ClickHouse at ${config.url}: ${describe(error)}`, { cause: error });
    }
    const client = createClient({
      url: config.url,
      username: config.username,
      password: config.password,
      database: config.database,
      clickhouse_settings: config.cluster
        ? // Synchronous Distributed inserts, so a failed insert is reported (and retried with the
          // same dedup token) instead of being queued on the receiving server.
          { insert_distributed_sync: 1 }
        : {},
    });
    db = { client, mode: 'server', cluster: config.cluster, database: config.database, location: config.url };
  }
  if (options.migrate !== false) await migrate(db);
  return db;
}

export async function closeDb(db: Db): Promise<void> {
  await db.client.close();
}

const GLOBAL_KEY = Symbol.for('soc.cockpit.db');
type GlobalWithDb = typeof globalThis & { [GLOBAL_KEY]?: Promise<Db> };

/**
 * The process-wide storage handle, opened lazily on first use (never at import time: `next build`
 * imports route modules) and kept on globalThis so hot reloads and several bundles share one
 * engine. A failed open is not cached: the next call tries again.
 */
export function getDb(): Promise<Db> {
  const g = globalThis as GlobalWithDb;
  if (!g[GLOBAL_KEY]) {
    const opening = openDb(storageConfigFromEnv());
    g[GLOBAL_KEY] = opening;
    opening.catch(() => {
      if (g[GLOBAL_KEY] === opening) delete g[GLOBAL_KEY];
    });
  }
  return g[GLOBAL_KEY];
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
