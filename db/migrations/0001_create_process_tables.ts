import { renderMaterializedView, renderTable } from '../schema/render';
import { processEvents, processes, processesMv } from '../schema/tables';
import type { Migration } from './types';

export const migration: Migration = {
  version: 1,
  name: '0001_create_process_tables',
  statements: (flavour) => [
    ...renderTable(processEvents, flavour),
    ...renderTable(processes, flavour),
    ...renderMaterializedView(processesMv, flavour),
  ],
};
