import { renderAddColumn } from '../schema/render';
import { factBinaryColumn, sensorBatchFoldColumns } from '../schema/detection';
import type { Migration } from './types';

/**
 * Repeated facts folded at storage: each fact row names its image's executable, and each unit's
 * record counts the facts it folded (db/repositories/sensorStream.ts). Columns added only, so rows
 * stored before read as before (binary '' and 0 folded).
 */
export const migration: Migration = {
  version: 7,
  name: '0007_fold_repeated_facts',
  statements: (flavour) => [
    ...renderAddColumn('facts', factBinaryColumn, flavour),
    ...sensorBatchFoldColumns.flatMap((column) => renderAddColumn('sensor_batches', column, flavour)),
  ],
};
