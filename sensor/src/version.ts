import { readFileSync } from 'node:fs';
import path from 'node:path';

/** The sensor's version: the project's package version (one release train for all parts). */
export const SENSOR_VERSION: string = (() => {
  const pkg = JSON.parse(readFileSync(path.join(import.meta.dirname, '../../package.json'), 'utf8')) as {
    version?: string;
  };
  return pkg.version ?? '0.0.0';
})();

/** What a recording's header names as its author; replay accepts only files that say so. */
export const RECORDED_BY_PREFIX = 'soc-sensor ';
export const RECORDED_BY = `${RECORDED_BY_PREFIX}${SENSOR_VERSION}`;
