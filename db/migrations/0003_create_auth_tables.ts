import { renderTable } from '../schema/render';
import { AUTH_TABLES } from '../schema/auth';
import type { Migration } from './types';

export const migration: Migration = {
  version: 3,
  name: '0003_create_auth_tables',
  statements: (flavour) => AUTH_TABLES.flatMap((table) => renderTable(table, flavour)),
};
