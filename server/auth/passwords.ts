import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * Password hashing with Node's scrypt (memory-hard; no native dependency to install).
 * Default cost: N = 2^17, r = 8, p = 1 — 128 MiB and ~0.4 s per hash on the reference machine,
 * OWASP's recommended minimum for scrypt. The stored form carries its parameters
 * (`scrypt$17$8$1$<salt>$<hash>`), so the cost can be raised later and old hashes still verify.
 *
 * At most two hashes run at once: each one holds 128 MiB, and sign-in must not become a way to
 * exhaust the server's memory.
 */
const KEY_LENGTH = 32;
const SALT_BYTES = 16;
const MAX_CONCURRENT = 2;
export const MAX_PASSWORD_LENGTH = 1024;
export const MIN_PASSWORD_LENGTH = 12;

let running = 0;
const waiting: (() => void)[] = [];

async function withHashSlot<T>(work: () => Promise<T>): Promise<T> {
  if (running >= MAX_CONCURRENT) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  try {
    return await work();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

function scryptAsync(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFC'), salt, KEY_LENGTH, options, (error, key) => (error ? reject(error) : resolve(key))),
  );
}

function options(logN: number, r: number, p: number): ScryptOptions {
  const N = 2 ** logN;
  return { N, r, p, maxmem: 128 * N * r * p + 16 * 1024 * 1024 };
}

export async function hashPassword(password: string, logN = 17): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await withHashSlot(() => scryptAsync(password, salt, options(logN, 8, 1)));
  return `scrypt$${logN}$8$1$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

const STORED = /^scrypt\$(\d{2})\$(\d{1,2})\$(\d{1,2})\$([A-Za-z0-9_-]{16,64})\$([A-Za-z0-9_-]{16,128})$/;

/** True when `password` matches `stored`; false for a wrong password or an unusable stored value. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const match = STORED.exec(stored);
  if (!match || password.length > MAX_PASSWORD_LENGTH) return false;
  const [logN, r, p] = [Number(match[1]), Number(match[2]), Number(match[3])];
  // A stored value with absurd costs (a corrupted row, a planted one) must not hang the server.
  if (logN < 10 || logN > 20 || r < 1 || r > 16 || p < 1 || p > 4) return false;
  const salt = Buffer.from(match[4]!, 'base64url');
  const expected = Buffer.from(match[5]!, 'base64url');
  try {
    const key = await withHashSlot(() => scryptAsync(password, salt, options(logN, r, p)));
    return key.length === expected.length && timingSafeEqual(key, expected);
  } catch {
    return false;
  }
}

/**
 * A hash of nothing anybody knows, verified when the account does not exist or cannot sign in
 * with a password, so that such attempts take as long as real ones (no user enumeration by timing).
 */
const dummyHashes = new Map<number, Promise<string>>();
export function dummyHash(logN: number): Promise<string> {
  let hash = dummyHashes.get(logN);
  if (!hash) {
    hash = hashPassword(randomBytes(16).toString('hex'), logN);
    dummyHashes.set(logN, hash);
  }
  return hash;
}

/** A password rule a human can follow: length, not composition (NIST SP 800-63B). */
export function passwordProblem(password: string): string | null {
  if (password.length < MIN_PASSWORD_LENGTH) return `at least ${MIN_PASSWORD_LENGTH} characters`;
  if (password.length > MAX_PASSWORD_LENGTH) return `at most ${MAX_PASSWORD_LENGTH} characters`;
  return null;
}
