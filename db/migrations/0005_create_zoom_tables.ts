import { renderAddColumn, renderTable } from '../schema/render';
import { sensorBatchEvidenceColumns, ZOOM_TABLES } from '../schema/zoom';
import type { Migration } from './types';

/**
 * Adaptive zoom-in: investigations, zoom orders and lifecycles, the four evidence tables
 * (db/schema/zoom.ts), and the rows a unit writes to them (sensor_batches, so a unit's intent
 * still counts everything it stores).
 */
export const migration: Migration = {
  version: 5,
  name: '0005_create_zoom_tables',
  statements: (flavour) => [
    ...sensorBatchEvidenceColumns.flatMap((column) => renderAddColumn('sensor_batches', column, flavour)),
    ...ZOOM_TABLES.flatMap((table) => renderTable(table, flavour)),
  ],
};
