import type { Flavour } from '../schema/types';

/**
 * A numbered migration. `statements` renders DDL for the flavour at hand from the shared table
 * definitions. Rule: every statement must be idempotent (IF NOT EXISTS / IF EXISTS), because a
 * migration may be re-run after a crash and two cockpit processes may start at once.
 */
export interface Migration {
  version: number;
  /** NNNN_verb_object, matching the file name. */
  name: string;
  statements(flavour: Flavour): string[];
}
