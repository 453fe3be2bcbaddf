import { describe, expect, it } from 'vitest';
import { CollectorConfigError, collectorConfigFromEnv, parseSensors } from './config';

describe('SENSORS', () => {
  it('parses name=host:port entries', () => {
    expect(parseSensors('node-a=localhost:50051, node-b=sensor-b.internal:7443,v6=[::1]:9')).toEqual([
      { name: 'node-a', host: 'localhost', port: 50051, address: 'localhost:50051' },
      { name: 'node-b', host: 'sensor-b.internal', port: 7443, address: 'sensor-b.internal:7443' },
      { name: 'v6', host: '::1', port: 9, address: '[::1]:9' },
    ]);
  });

  it.each([
    ['node-a=localhost', /entry 1 "node-a=localhost": expected name=host:port/],
    ['a=h:1,b=h:70000', /entry 2 "b=h:70000": port 70000 out of range/],
    ['a=h:1,a=h:2', /sensor "a" listed twice/],
    ['a b=h:1', /sensor name "a b"/],
    ['a=bad_host:1', /"bad_host" is not a host name/],
    [' , ', /no sensor listed/],
  ])('refuses %j with a clear error', (value, message) => {
    expect(() => parseSensors(value)).toThrow(CollectorConfigError);
    expect(() => parseSensors(value)).toThrow(message);
  });

  it('needs SENSORS and validates the tuning variables', () => {
    expect(() => collectorConfigFromEnv({})).toThrow(/SENSORS is not set/);
    expect(collectorConfigFromEnv({ SENSORS: 'a=localhost:1', COLLECTOR_QUEUE_BATCHES: '4' })).toMatchObject({
      queueBatches: 4,
      statusIntervalMs: 10_000,
      backoffMaxMs: 30_000,
    });
    expect(() => collectorConfigFromEnv({ SENSORS: 'a=localhost:1', COLLECTOR_QUEUE_BATCHES: '0' })).toThrow(/COLLECTOR_QUEUE_BATCHES/);
    expect(collectorConfigFromEnv({ SENSORS: 'a=localhost:1' }).factFold).toEqual({ windowMs: 600_000, maxKeys: 100_000, maxExecs: 65_536 });
    expect(collectorConfigFromEnv({ SENSORS: 'a=localhost:1', COLLECTOR_FACT_FOLD_S: '0', COLLECTOR_FACT_FOLD_KEYS: '500' }).factFold).toMatchObject({ windowMs: 0, maxKeys: 500 });
    expect(() => collectorConfigFromEnv({ SENSORS: 'a=localhost:1', COLLECTOR_FACT_FOLD_S: '-1' })).toThrow(/COLLECTOR_FACT_FOLD_S/);
  });
});
