/**
 * Table definitions, written once and rendered for each storage flavour (single server / embedded
 * chDB, or a cluster with Replicated engines and Distributed tables). Migrations refer to these
 * definitions instead of carrying hand-written DDL twice.
 */

export type EngineKind = 'MergeTree' | 'ReplacingMergeTree' | 'AggregatingMergeTree';

export interface ColumnDef {
  name: string;
  type: string;
  /** DEFAULT / MATERIALIZED / CODEC and the like, appended verbatim. */
  extra?: string;
  comment?: string;
}

export interface TableDef {
  name: string;
  comment: string;
  columns: ColumnDef[];
  engine: EngineKind;
  /** ReplacingMergeTree version column. */
  versionColumn?: string;
  orderBy: string;
  partitionBy?: string;
  primaryKey?: string;
  ttl?: string;
  /** Data-skipping indexes: `name expr TYPE type GRANULARITY n`. */
  indexes?: string[];
  /** Engine settings (the dedup window among them). */
  settings?: Record<string, string | number>;
  /** Cluster flavour: expression the Distributed table shards by (by node, so one node's data stays together). */
  shardingKey: string;
}

/** A plain (non-materialized) view; `{table}` placeholders name the tables it reads. */
export interface ViewDef {
  name: string;
  comment: string;
  select: string;
}

export interface Flavour {
  /** Database the tables live in. */
  database: string;
  /** Cluster name when rendering the clustered flavour, null for a single server / embedded. */
  cluster: string | null;
}
