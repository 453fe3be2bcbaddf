import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureCerts } from './certs';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soc-certs-test-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('ensureCerts (openssl)', () => {
  it('makes a CA, a sensor server certificate and a cockpit client certificate; keys are 0600', async () => {
    const out = path.join(dir, 'a');
    const r = await ensureCerts({ outDir: out, sensorHosts: ['sensor-7.internal', '10.1.2.3'] });
    expect(r.made).toEqual(['ca', 'sensor', 'cockpit']);
    for (const key of [r.files.caKey, r.files.sensorKey, r.files.cockpitKey]) {
      expect((await stat(key)).mode & 0o777).toBe(0o600);
    }
    const ca = new X509Certificate(await readFile(r.files.ca));
    const sensor = new X509Certificate(await readFile(r.files.sensorCert));
    const cockpit = new X509Certificate(await readFile(r.files.cockpitCert));
    expect(ca.ca).toBe(true);
    expect(sensor.checkIssued(ca) && sensor.verify(ca.publicKey)).toBe(true);
    expect(cockpit.checkIssued(ca) && cockpit.verify(ca.publicKey)).toBe(true);
    expect(sensor.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']); // serverAuth only
    expect(cockpit.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']); // clientAuth only
    expect(sensor.subjectAltName).toBe(`DNS:localhost, DNS:${os.hostname()}, DNS:sensor-7.internal, IP Address:10.1.2.3`);
    expect(r.sensorEnv).toEqual({ SENSOR_TLS_CA: r.files.ca, SENSOR_TLS_CERT: r.files.sensorCert, SENSOR_TLS_KEY: r.files.sensorKey });
    expect(await readFile(path.join(out, 'cockpit.env'), 'utf8')).toContain(`COCKPIT_TLS_KEY=${r.files.cockpitKey}`);
  });

  it('does nothing when the files are valid, remakes what is not, rotates everything with force', async () => {
    const out = path.join(dir, 'b');
    const first = await ensureCerts({ outDir: out });
    const caPem = await readFile(first.files.ca, 'utf8');
    const sensorPem = await readFile(first.files.sensorCert, 'utf8');

    const again = await ensureCerts({ outDir: out });
    expect(again.made).toEqual([]);
    expect(again.kept).toEqual(['ca', 'sensor', 'cockpit']);
    expect(await readFile(first.files.sensorCert, 'utf8')).toBe(sensorPem);

    // A new sensor name: only the sensor certificate is remade, under the same CA.
    const renamed = await ensureCerts({ outDir: out, sensorHosts: ['new-name'] });
    expect(renamed.made).toEqual(['sensor']);
    expect(await readFile(first.files.ca, 'utf8')).toBe(caPem);

    // A damaged key: its certificate is remade.
    await writeFile(first.files.cockpitKey, 'not a key\n', { mode: 0o600 });
    expect((await ensureCerts({ outDir: out, sensorHosts: ['new-name'] })).made).toEqual(['cockpit']);

    const rotated = await ensureCerts({ outDir: out, force: true });
    expect(rotated.made).toEqual(['ca', 'sensor', 'cockpit']);
    expect(await readFile(first.files.ca, 'utf8')).not.toBe(caPem);
  });
});
