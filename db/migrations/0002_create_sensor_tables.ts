import { renderTable } from '../schema/render';
import { sensorBatches, sensorGaps, sensorStatus } from '../schema/tables';
import type { Migration } from './types';

export const migration: Migration = {
  version: 2,
  name: '0002_create_sensor_tables',
  statements: (flavour) => [
    ...renderTable(sensorBatches, flavour),
    ...renderTable(sensorGaps, flavour),
    ...renderTable(sensorStatus, flavour),
  ],
};
