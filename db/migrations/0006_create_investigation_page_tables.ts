import { localName, renderTable } from '../schema/render';
import { INVESTIGATION_PAGE_TABLES, INVESTIGATION_VERDICT_ENUM } from '../schema/investigation';
import type { Flavour } from '../schema/types';
import type { Migration } from './types';

/**
 * The investigation page: verdicts and notes in tables of their own (db/schema/investigation.ts),
 * and investigations.verdict becomes none | benign | malicious | inconclusive.
 *
 * The enum change keeps every number it had ('none' 0, 'benign' 1, 'malicious' 3) and only drops
 * 'suspicious', which nothing ever wrote (the column was reserved for this page): ClickHouse then
 * changes the metadata only. A row that held it anyway is first set to 'none' (its verdict, if any,
 * was never an analyst's: verdicts live in investigation_verdicts). Re-running is harmless: the
 * update matches nothing and MODIFY to the same type is a no-op.
 */
function modifyVerdict(flavour: Flavour): string[] {
  const table = (name: string) => `${flavour.database}.${name}`;
  const cluster = flavour.cluster ? ` ON CLUSTER '${flavour.cluster}'` : '';
  const local = table(localName('investigations', flavour));
  const statements = [
    `ALTER TABLE ${local}${cluster} UPDATE verdict = 'none' WHERE toString(verdict) = 'suspicious' SETTINGS mutations_sync = 2`,
    `ALTER TABLE ${local}${cluster} MODIFY COLUMN verdict ${INVESTIGATION_VERDICT_ENUM}`,
  ];
  if (flavour.cluster) statements.push(`ALTER TABLE ${table('investigations')}${cluster} MODIFY COLUMN verdict ${INVESTIGATION_VERDICT_ENUM}`);
  return statements;
}

export const migration: Migration = {
  version: 6,
  name: '0006_create_investigation_page_tables',
  statements: (flavour) => [...modifyVerdict(flavour), ...INVESTIGATION_PAGE_TABLES.flatMap((table) => renderTable(table, flavour))],
};
