import { migration as m0001 } from './0001_create_process_tables';
import { migration as m0002 } from './0002_create_sensor_tables';
import { migration as m0003 } from './0003_create_auth_tables';
import { migration as m0004 } from './0004_create_detection_tables';
import { migration as m0005 } from './0005_create_zoom_tables';
import { migration as m0006 } from './0006_create_investigation_page_tables';
import { migration as m0007 } from './0007_fold_repeated_facts';
import { migration as m0008 } from './0008_store_investigation_analyses';
import type { Migration } from './types';

/** Every migration, in order. Add new ones at the end; never edit one that has shipped. */
export const migrations: readonly Migration[] = [m0001, m0002, m0003, m0004, m0005, m0006, m0007, m0008];
