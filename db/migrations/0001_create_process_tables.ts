import { renderTable, renderView } from '../schema/render';
import { processEvents, processesView } from '../schema/tables';
import type { Migration } from './types';

export const migration: Migration = {
  version: 1,
  name: '0001_create_process_tables',
  statements: (flavour) => [
    ...renderTable(processEvents, flavour),
    ...renderView(processesView, flavour),
  ],
};
