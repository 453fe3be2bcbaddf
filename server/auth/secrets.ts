import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';

/**
 * Random secrets and their stored form. Session ids and API tokens carry 256 bits of randomness,
 * so a fast hash (SHA-256) is the right stored form: nothing to brute-force, and a lookup by hash
 * reveals nothing usable if the table leaks.
 */

/** Prefix of API tokens: recognisable in logs, configuration and secret scanners. */
export const TOKEN_PREFIX = 'soc_pat_';
export const TOKEN_PATTERN = /^soc_pat_[A-Za-z0-9_-]{43}$/;
export const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export function randomSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

export function newSessionId(): string {
  return randomSecret(32);
}

export function newApiToken(): string {
  return TOKEN_PREFIX + randomSecret(32);
}

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/** A short public id (tokens, users): 16 hex digits from a UUIDv4. */
export function newPublicId(): string {
  return randomUUID().replace(/-/g, '').slice(0, 16);
}

export function newUserId(): string {
  return randomUUID();
}

/** A generated password: 24 characters, ~143 bits. */
export function generatePassword(): string {
  return randomSecret(18);
}

export function constantTimeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
