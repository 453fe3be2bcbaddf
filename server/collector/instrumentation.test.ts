import { afterEach, describe, expect, it, vi } from 'vitest';
import { register } from '../../instrumentation';
import { getCollectorState, stopCollector } from './collector';

describe('instrumentation register()', () => {
  afterEach(async () => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
    await stopCollector();
  });

  it('does nothing outside the Node.js runtime or without SENSORS', async () => {
    vi.stubEnv('SENSORS', 'a=localhost:1');
    vi.stubEnv('NEXT_RUNTIME', 'edge');
    await register();
    vi.stubEnv('NEXT_RUNTIME', 'nodejs');
    vi.stubEnv('SENSORS', '');
    await register();
    expect(getCollectorState()).toMatchObject({ running: false, error: null, sensors: [] });
  });

  it('reports an invalid SENSORS without taking the server down', async () => {
    vi.stubEnv('NEXT_RUNTIME', 'nodejs');
    vi.stubEnv('SENSORS', 'a=localhost');
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    await expect(register()).resolves.toBeUndefined();
    expect(logged).toHaveBeenCalledWith(expect.stringMatching(/collector not started: SENSORS=.*expected name=host:port/));
    expect(getCollectorState()).toMatchObject({ running: false, error: expect.stringMatching(/entry 1 "a=localhost"/) });
  });
});
