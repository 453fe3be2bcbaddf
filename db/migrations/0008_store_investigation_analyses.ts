import { renderTable } from '../schema/render';
import { investigationAnalyses } from '../schema/investigation';
import type { Migration } from './types';

/** Stored analyses of ended investigations (db/schema/investigation.ts): a new table only. */
export const migration: Migration = {
  version: 8,
  name: '0008_store_investigation_analyses',
  statements: (flavour) => renderTable(investigationAnalyses, flavour),
};
