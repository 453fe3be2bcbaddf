import type { Db } from '../client';
import { selectRows } from '../query';
import { facts, processEventsCurrent } from '../schema/detection';
import { sensorGaps } from '../schema/tables';
import type { TableDef } from '../schema/types';
import { codeFingerprints, fileAccesses, ioUringOps, socketEvents, zooms } from '../schema/zoom';
import { nsToClickHouse } from '../time';

/**
 * One stored row by its key, every column as text (the investigation page's "event" view): times
 * as nanosecond strings, byte arrays as hex, other arrays as JSON. Each lookup is bounded by the
 * table's primary key (and the row's time, which the key carries).
 */

export type EventRowTable = 'io_uring_ops' | 'socket_events' | 'file_accesses' | 'code_fingerprints' | 'process_events' | 'facts' | 'sensor_gaps' | 'zooms';

const TABLES: Record<EventRowTable, TableDef> = {
  io_uring_ops: ioUringOps,
  socket_events: socketEvents,
  file_accesses: fileAccesses,
  code_fingerprints: codeFingerprints,
  process_events: processEventsCurrent,
  facts,
  sensor_gaps: sensorGaps,
  zooms,
};

/** A column as text (column names come from the schema definitions, never from input). */
function asText(name: string, type: string): string {
  if (type.startsWith('DateTime64')) return `toString(toUnixTimestamp64Nano(${name})) AS ${name}`;
  if (type === 'Array(UInt8)') return `arrayStringConcat(arrayMap(b -> hex(b), ${name})) AS ${name}`;
  if (type.startsWith('Array(')) return name; // as JSON text below (toJSONString would escape every '/')
  return `toString(${name}) AS ${name}`;
}

const selectList = (table: TableDef) => table.columns.map((c) => asText(c.name, c.type)).join(', ');

const AT_TS = `ts = {ts:DateTime64(9, 'UTC')}`;
const WHERE: Record<EventRowTable, string> = {
  io_uring_ops: `investigation_id = {id:String} AND ${AT_TS} AND zoom_id = {zoom:String} AND seq = {seq:UInt64}`,
  socket_events: `investigation_id = {id:String} AND ${AT_TS} AND zoom_id = {zoom:String} AND seq = {seq:UInt64}`,
  file_accesses: `investigation_id = {id:String} AND ${AT_TS} AND zoom_id = {zoom:String} AND seq = {seq:UInt64}`,
  code_fingerprints: `investigation_id = {id:String} AND ${AT_TS} AND zoom_id = {zoom:String} AND seq = {seq:UInt64}`,
  process_events: `node = {node:String} AND exec_id = {exec:String} AND ${AT_TS} AND epoch = {epoch:String} AND seq = {seq:UInt64}`,
  facts: `node = {node:String} AND exec_id = {exec:String} AND ${AT_TS} AND epoch = {epoch:String} AND seq = {seq:UInt64}`,
  sensor_gaps: `sensor = {sensor:String} AND ${AT_TS} AND epoch = {epoch:String} AND from_seq = {seq:UInt64}`,
  zooms: `zoom_id = {zoom:String} AND investigation_id = {id:String}`,
};

export interface EventRowKey {
  investigationId: string;
  tsNs?: string;
  zoomId?: string;
  seq?: string;
  node?: string;
  execId?: string;
  epoch?: string;
  sensor?: string;
}

/** The row, every column as text; null when no row has that key. */
export async function getEventRow(db: Db, table: EventRowTable, key: EventRowKey): Promise<Record<string, string> | null> {
  const def = TABLES[table];
  const rows = await selectRows<Record<string, unknown>>(db, {
    // The row first, then its columns as text (under their own names, which must not shadow the filter's columns).
    sql: `SELECT ${selectList(def)} FROM (SELECT * FROM ${def.name}${table === 'zooms' ? ' FINAL' : ''} WHERE ${WHERE[table]} LIMIT 1)`,
    params: {
      id: key.investigationId,
      ts: nsToClickHouse(key.tsNs ?? '0'),
      zoom: key.zoomId ?? '',
      seq: key.seq ?? '0',
      node: key.node ?? '',
      exec: key.execId ?? '',
      epoch: key.epoch ?? '',
      sensor: key.sensor ?? '',
    },
    tag: `investigations.event.${table}`,
  });
  const row = rows[0];
  if (!row) return null;
  return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
}
