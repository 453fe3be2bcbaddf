import { parseSensors } from '../collector/config';

/** A sensor the cockpit is configured to watch. */
export interface ConfiguredSensor {
  name: string;
  /** host:port the collector dials. */
  address: string;
}

let cache: { value: string | undefined; sensors: readonly ConfiguredSensor[] } | null = null;

/**
 * The sensors listed in SENSORS (`name=host:port,…`), parsed by the collector's own parser so the
 * page and the collector can never disagree on the list. Unset or empty: none. Invalid: throws
 * (the sensors procedures then fail with a logged error; the collector refuses to start as well).
 */
export function configuredSensorsFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): readonly ConfiguredSensor[] {
  const value = env.SENSORS;
  if (cache && cache.value === value) return cache.sensors;
  const sensors = value && value.trim() !== '' ? parseSensors(value).map(({ name, address }) => ({ name, address })) : [];
  cache = { value, sensors };
  return sensors;
}
