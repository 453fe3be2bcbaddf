import type { Flavour, TableDef, ViewDef } from './types';

/**
 * Renders DDL from table definitions for one storage flavour.
 *
 * Single (embedded chDB or one ClickHouse server): `CREATE TABLE IF NOT EXISTS db.t … ENGINE = X`.
 * Cluster: the data lives in `t_local` (Replicated engine, created ON CLUSTER), and `t` is a
 * Distributed table over it sharded by node. Queries always name `t`, whatever the flavour.
 *
 * Every statement is idempotent (IF NOT EXISTS) so that a migration can be re-run and two cockpit
 * processes may migrate at the same time.
 */

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

function ident(name: string): string {
  if (!IDENTIFIER.test(name)) throw new Error(`invalid identifier in schema: ${name}`);
  return name;
}

function quoteString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

export function localName(table: string, flavour: Flavour): string {
  return flavour.cluster ? `${table}_local` : table;
}

function qualified(table: string, flavour: Flavour): string {
  return `${ident(flavour.database)}.${ident(table)}`;
}

function onCluster(flavour: Flavour): string {
  return flavour.cluster ? ` ON CLUSTER ${quoteString(flavour.cluster)}` : '';
}

function engineClause(def: TableDef, flavour: Flavour): string {
  const args: string[] = [];
  if (flavour.cluster) {
    // {shard}/{replica} are the server's macros; {database}/{table} are expanded by ClickHouse.
    args.push(`'/clickhouse/tables/{shard}/{database}/{table}'`, `'{replica}'`);
  }
  if (def.engine === 'ReplacingMergeTree' && def.versionColumn) args.push(ident(def.versionColumn));
  const engine = flavour.cluster ? `Replicated${def.engine}` : def.engine;
  return `${engine}(${args.join(', ')})`;
}

function settingsClause(def: TableDef, flavour: Flavour): string {
  const settings = { ...(def.settings ?? {}) };
  if (flavour.cluster) {
    // Replicated engines deduplicate with replicated_deduplication_window (on by default);
    // the non-replicated window only applies to plain MergeTree.
    delete settings.non_replicated_deduplication_window;
  }
  const entries = Object.entries(settings);
  if (entries.length === 0) return '';
  return `\nSETTINGS ${entries.map(([k, v]) => `${ident(k)} = ${typeof v === 'number' ? v : quoteString(v)}`).join(', ')}`;
}

/** CREATE TABLE statement(s) for one table: one for single, two (local + Distributed) for a cluster. */
export function renderTable(def: TableDef, flavour: Flavour): string[] {
  const table = localName(def.name, flavour);
  const columns = def.columns.map((c) => {
    const parts = [`  ${ident(c.name)} ${c.type}`];
    if (c.extra) parts.push(c.extra);
    if (c.comment) parts.push(`COMMENT ${quoteString(c.comment)}`);
    return parts.join(' ');
  });
  const indexes = (def.indexes ?? []).map((i) => `  INDEX ${i}`);
  const lines = [
    `CREATE TABLE IF NOT EXISTS ${qualified(table, flavour)}${onCluster(flavour)}`,
    `(`,
    [...columns, ...indexes].join(',\n'),
    `)`,
    `ENGINE = ${engineClause(def, flavour)}`,
  ];
  if (def.partitionBy) lines.push(`PARTITION BY ${def.partitionBy}`);
  lines.push(`ORDER BY ${def.orderBy}`);
  if (def.primaryKey) lines.push(`PRIMARY KEY ${def.primaryKey}`);
  if (def.ttl) lines.push(`TTL ${def.ttl}`);
  let sql = lines.join('\n') + settingsClause(def, flavour);
  sql += `\nCOMMENT ${quoteString(def.comment)}`;
  const statements = [sql];
  if (flavour.cluster) {
    statements.push(
      `CREATE TABLE IF NOT EXISTS ${qualified(def.name, flavour)}${onCluster(flavour)}\n` +
        `AS ${qualified(table, flavour)}\n` +
        `ENGINE = Distributed(${quoteString(flavour.cluster)}, ${quoteString(flavour.database)}, ${quoteString(table)}, ${def.shardingKey})`,
    );
  }
  return statements;
}

/**
 * CREATE VIEW: `{table}` placeholders become the qualified table the view reads. On a cluster the
 * view reads the Distributed table, so it works from any server; since data is sharded by node,
 * every group of a GROUP BY (node, …) comes from one shard.
 */
export function renderView(def: ViewDef, flavour: Flavour, options: { replace?: boolean } = {}): string[] {
  const select = def.select.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, table: string) => qualified(table, flavour));
  // OR REPLACE: a later migration redefines a view (a plain view holds no data); still idempotent.
  const create = options.replace ? 'CREATE OR REPLACE VIEW' : 'CREATE VIEW IF NOT EXISTS';
  return [`${create} ${qualified(def.name, flavour)}${onCluster(flavour)}\nAS ${select}\nCOMMENT ${quoteString(def.comment)}`];
}

/** ALTER TABLE … ADD COLUMN IF NOT EXISTS, on the local table and (cluster) the Distributed one. */
export function renderAddColumn(table: string, column: { name: string; type: string; extra?: string }, flavour: Flavour): string[] {
  const spec = `ADD COLUMN IF NOT EXISTS ${ident(column.name)} ${column.type}${column.extra ? ' ' + column.extra : ''}`;
  const statements = [`ALTER TABLE ${qualified(localName(table, flavour), flavour)}${onCluster(flavour)} ${spec}`];
  if (flavour.cluster) statements.push(`ALTER TABLE ${qualified(table, flavour)}${onCluster(flavour)} ${spec}`);
  return statements;
}
