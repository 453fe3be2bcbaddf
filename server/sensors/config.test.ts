import { describe, expect, it } from 'vitest';
import { configuredSensorsFromEnv } from './config';

describe('configured sensors', () => {
  it('reads SENSORS with the collector’s parser, in order', () => {
    expect(configuredSensorsFromEnv({ SENSORS: 'local=localhost:50051, replay=localhost:50052' })).toEqual([
      { name: 'local', address: 'localhost:50051' },
      { name: 'replay', address: 'localhost:50052' },
    ]);
  });

  it('has none when SENSORS is unset or empty', () => {
    expect(configuredSensorsFromEnv({})).toEqual([]);
    expect(configuredSensorsFromEnv({ SENSORS: ' ' })).toEqual([]);
  });

  it('refuses an invalid list, naming the entry', () => {
    expect(() => configuredSensorsFromEnv({ SENSORS: 'local=localhost' })).toThrow(/entry 1 "local=localhost"/);
  });
});
