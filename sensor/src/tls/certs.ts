import { execFile } from 'node:child_process';
import { randomBytes, X509Certificate, createPrivateKey } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A local CA and the two certificates of the cockpit ↔ sensor link, made with openssl:
 * - the sensor's (server auth; SAN localhost, the host name and any names given),
 * - the cockpit's (client auth: the sensor accepts only clients this CA signed).
 * Keys are EC P-256, written mode 0600. Running it again keeps every file that is still valid
 * (chain, key match, SANs, more than RENEW_BEFORE_DAYS left) and remakes the others; `force`
 * rotates everything including the CA.
 */

export interface CertOptions {
  outDir: string;
  /** Extra names (DNS or IP) the sensor certificate must carry. */
  sensorHosts?: string[];
  /** Remake the CA and both certificates. */
  force?: boolean;
  caDays?: number;
  leafDays?: number;
}

export interface CertFiles {
  ca: string;
  caKey: string;
  sensorCert: string;
  sensorKey: string;
  cockpitCert: string;
  cockpitKey: string;
}

export interface CertResult {
  files: CertFiles;
  /** Which parts were (re)made and which were kept as valid. */
  made: Array<'ca' | 'sensor' | 'cockpit'>;
  kept: Array<'ca' | 'sensor' | 'cockpit'>;
  /** Environment for each side (also written to sensor.env / cockpit.env in outDir). */
  sensorEnv: Record<string, string>;
  cockpitEnv: Record<string, string>;
  sensorNames: string[];
}

export const RENEW_BEFORE_DAYS = 30;
const DAY_MS = 86_400_000;
const OID_SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const OID_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

export function certFiles(outDir: string): CertFiles {
  const dir = path.resolve(outDir);
  return {
    ca: path.join(dir, 'ca.crt'),
    caKey: path.join(dir, 'ca.key'),
    sensorCert: path.join(dir, 'sensor.crt'),
    sensorKey: path.join(dir, 'sensor.key'),
    cockpitCert: path.join(dir, 'cockpit.crt'),
    cockpitKey: path.join(dir, 'cockpit.key'),
  };
}

/** The names the sensor certificate carries: localhost, this host's name, and the given ones. */
export function sensorNames(extra: string[] = []): string[] {
  return [...new Set(['localhost', os.hostname(), ...extra].map((n) => n.trim()).filter(Boolean))];
}

export async function ensureCerts(options: CertOptions): Promise<CertResult> {
  const files = certFiles(options.outDir);
  const names = sensorNames(options.sensorHosts);
  await mkdir(path.dirname(files.ca), { recursive: true, mode: 0o700 });
  const made: CertResult['made'] = [];
  const kept: CertResult['kept'] = [];

  const caOk = !options.force && (await checkCa(files));
  if (caOk) kept.push('ca');
  else {
    await makeCa(files, options.caDays ?? 3650);
    made.push('ca');
  }
  const leaves = [
    { part: 'sensor' as const, cert: files.sensorCert, key: files.sensorKey, usage: OID_SERVER_AUTH, names },
    { part: 'cockpit' as const, cert: files.cockpitCert, key: files.cockpitKey, usage: OID_CLIENT_AUTH, names: [] },
  ];
  for (const leaf of leaves) {
    if (caOk && (await checkLeaf(files, leaf.cert, leaf.key, leaf.usage, leaf.names))) {
      kept.push(leaf.part);
      continue;
    }
    await makeLeaf(files, leaf.part, leaf.cert, leaf.key, leaf.names, options.leafDays ?? 397);
    made.push(leaf.part);
  }

  const sensorEnv = { SENSOR_TLS_CA: files.ca, SENSOR_TLS_CERT: files.sensorCert, SENSOR_TLS_KEY: files.sensorKey };
  const cockpitEnv = { COCKPIT_TLS_CA: files.ca, COCKPIT_TLS_CERT: files.cockpitCert, COCKPIT_TLS_KEY: files.cockpitKey };
  const dir = path.dirname(files.ca);
  await writeFile(path.join(dir, 'sensor.env'), envFile(sensorEnv));
  await writeFile(path.join(dir, 'cockpit.env'), envFile(cockpitEnv));
  return { files, made, kept, sensorEnv, cockpitEnv, sensorNames: names };
}

async function checkCa(files: CertFiles): Promise<boolean> {
  const cert = await loadCert(files.ca);
  if (!cert || !cert.ca || !(await keyMatches(cert, files.caKey))) return false;
  return daysLeft(cert) > RENEW_BEFORE_DAYS;
}

async function checkLeaf(files: CertFiles, certPath: string, keyPath: string, usage: string, names: string[]): Promise<boolean> {
  const [cert, ca] = await Promise.all([loadCert(certPath), loadCert(files.ca)]);
  if (!cert || !ca) return false;
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return false;
  if (!(await keyMatches(cert, keyPath))) return false;
  if (daysLeft(cert) <= RENEW_BEFORE_DAYS) return false;
  if (!(cert.keyUsage ?? []).includes(usage)) return false;
  const sans = new Set((cert.subjectAltName ?? '').split(', ').filter(Boolean));
  return names.every((name) => sans.has(sanEntry(name)));
}

async function makeCa(files: CertFiles, days: number): Promise<void> {
  await withTempDir(async (tmp) => {
    const key = path.join(tmp, 'key');
    const cert = path.join(tmp, 'cert');
    await writeKey(key);
    await openssl([
      'req', '-x509', '-new', '-key', key, '-out', cert, '-days', String(days), '-sha256',
      '-subj', `/O=soc-cockpit/CN=soc-cockpit local CA ${new Date().toISOString().slice(0, 10)}`,
      '-addext', 'basicConstraints=critical,CA:TRUE,pathlen:0',
      '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
      '-addext', 'subjectKeyIdentifier=hash',
    ]);
    await install(key, files.caKey, 0o600);
    await install(cert, files.ca, 0o644);
  });
}

async function makeLeaf(
  files: CertFiles,
  part: 'sensor' | 'cockpit',
  certPath: string,
  keyPath: string,
  names: string[],
  days: number,
): Promise<void> {
  await withTempDir(async (tmp) => {
    const key = path.join(tmp, 'key');
    const csr = path.join(tmp, 'csr');
    const cert = path.join(tmp, 'cert');
    const ext = path.join(tmp, 'ext');
    await writeKey(key);
    await openssl(['req', '-new', '-key', key, '-out', csr, '-subj', `/O=soc-cockpit/CN=soc-${part}`]);
    const lines = [
      '[v3]',
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyAgreement',
      `extendedKeyUsage=${part === 'sensor' ? 'serverAuth' : 'clientAuth'}`,
      'authorityKeyIdentifier=keyid',
    ];
    if (names.length > 0) lines.push(`subjectAltName=${names.map((n) => (isIP(n) ? `IP:${n}` : `DNS:${n}`)).join(',')}`);
    await writeFile(ext, lines.join('\n') + '\n');
    await openssl([
      'x509', '-req', '-in', csr, '-CA', files.ca, '-CAkey', files.caKey, '-out', cert, '-days', String(days),
      '-sha256', '-set_serial', `0x${randomBytes(16).toString('hex').replace(/^[89a-f]/, '7')}`,
      '-extfile', ext, '-extensions', 'v3',
    ]);
    await install(key, keyPath, 0o600);
    await install(cert, certPath, 0o644);
  });
}

/** A P-256 key written by us with mode 0600 from the start (openssl would follow the umask). */
async function writeKey(file: string): Promise<void> {
  const { stdout } = await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']);
  await writeFile(file, stdout, { mode: 0o600 });
}

async function openssl(args: string[]): Promise<{ stdout: string }> {
  try {
    const { stdout } = await run('openssl', args, { maxBuffer: 1 << 20 });
    return { stdout };
  } catch (err) {
    const e = err as Error & { stderr?: string; code?: string };
    if (e.code === 'ENOENT') throw new Error('openssl not found: install it (apt-get install -y openssl)');
    throw new Error(`openssl ${args[0]} failed: ${(e.stderr ?? e.message).trim()}`);
  }
}

/** Moves a finished file into place (same directory tree → atomic rename) with its final mode. */
async function install(from: string, to: string, mode: number): Promise<void> {
  await chmod(from, mode);
  try {
    await rename(from, to);
  } catch {
    await writeFile(to, await readFile(from), { mode });
    await chmod(to, mode);
  }
}

async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'soc-certs-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function loadCert(file: string): Promise<X509Certificate | null> {
  if (!existsSync(file)) return null;
  try {
    return new X509Certificate(await readFile(file));
  } catch {
    return null;
  }
}

async function keyMatches(cert: X509Certificate, keyPath: string): Promise<boolean> {
  if (!existsSync(keyPath)) return false;
  try {
    return cert.checkPrivateKey(createPrivateKey(await readFile(keyPath)));
  } catch {
    return false;
  }
}

function daysLeft(cert: X509Certificate): number {
  return (Date.parse(cert.validTo) - Date.now()) / DAY_MS;
}

/** A name as Node's X509Certificate.subjectAltName lists it. */
function sanEntry(name: string): string {
  return isIP(name) ? `IP Address:${name}` : `DNS:${name}`;
}

function envFile(env: Record<string, string>): string {
  return Object.entries(env)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n') + '\n';
}
