import { renderAddColumn, renderTable, renderView } from '../schema/render';
import { DETECTION_TABLES, processesViewCurrent, processEventWorkloadColumns, sensorBatchUnitColumns } from '../schema/detection';
import type { Migration } from './types';

/**
 * Baselines and indicators: the workload of every exec (process_events, and the processes view
 * that shows it), the rows a unit writes to the new tables (sensor_batches, so a unit's intent
 * still counts everything it stores), and the detection tables (db/schema/detection.ts).
 */
export const migration: Migration = {
  version: 4,
  name: '0004_create_detection_tables',
  statements: (flavour) => [
    ...processEventWorkloadColumns.flatMap((column) => renderAddColumn('process_events', column, flavour)),
    ...sensorBatchUnitColumns.flatMap((column) => renderAddColumn('sensor_batches', column, flavour)),
    ...renderView(processesViewCurrent, flavour, { replace: true }),
    ...DETECTION_TABLES.flatMap((table) => renderTable(table, flavour)),
  ],
};
