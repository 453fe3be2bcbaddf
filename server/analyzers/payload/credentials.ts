/**
 * Credentials visible in captured payload bytes, whatever the framing around them: JSON Web
 * Tokens (a Kubernetes service-account token is one), PEM private keys, AWS access key ids.
 *
 * What is reported is what identifies the credential, never the secret part: a JWT's header
 * (alg, kid) and, when the captured bytes reach them, its issuer and subject claims; a PEM
 * block's label; an access key id (an identifier, not the secret key).
 *
 * Limits: only what is in the clear in the first captured bytes; a token split across two
 * sends, or encoded (gzip, XOR, base64 of the whole token), is not seen.
 */
import { latin1 } from './bytes';

export interface CredentialHint {
  kind: 'jwt' | 'private_key' | 'aws_access_key_id';
  /** byte offset in the message */
  offset: number;
  /** readable: "JWT (alg RS256, kid 4f3…; iss https://kubernetes.default.svc…)" */
  description: string;
  /** JWT: the decoded header and the claims that were readable */
  jwt?: { alg?: string; kid?: string; typ?: string; issuer?: string; subject?: string; kubernetesServiceAccount: boolean };
}

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Decodes base64url (and base64) text; a trailing partial group is dropped. */
export function decodeBase64Url(text: string): Uint8Array {
  const clean = text.replace(/[=\s]/g, '').replace(/\+/g, '-').replace(/\//g, '_');
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const ch of clean) {
    const v = B64URL.indexOf(ch);
    if (v < 0) break;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push((acc >> bits) & 0xff);
    }
  }
  return Uint8Array.from(out);
}

function jsonString(text: string, key: string): string | undefined {
  const m = new RegExp(`"${key}"\\s*:\\s*"([^"\\\\]{0,200})"`).exec(text);
  return m?.[1];
}

function describeJwt(segments: string[]): CredentialHint['jwt'] {
  const header = latin1(decodeBase64Url(segments[0]!));
  const claims = segments[1] ? latin1(decodeBase64Url(segments[1])) : '';
  const issuer = jsonString(claims, 'iss');
  const subject = jsonString(claims, 'sub');
  return {
    alg: jsonString(header, 'alg'),
    kid: jsonString(header, 'kid'),
    typ: jsonString(header, 'typ'),
    issuer,
    subject,
    kubernetesServiceAccount: Boolean(subject?.startsWith('system:serviceaccount:') || issuer === 'kubernetes/serviceaccount' || claims.includes('"kubernetes.io"')),
  };
}

function shorten(s: string, max = 12): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

// A JWT header is base64url JSON starting with {" -> "eyJ". Three dot-separated segments; the
// capture may cut the second or third.
const JWT_RE = /eyJ[A-Za-z0-9_-]{8,}(?:\.[A-Za-z0-9_-]*){0,2}/g;
const PEM_RE = /-----BEGIN ((?:[A-Z0-9]+ )*PRIVATE KEY)-----/g;
const AWS_KEY_RE = /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g;

export function findCredentials(b: Uint8Array): CredentialHint[] {
  const text = latin1(b);
  const out: CredentialHint[] = [];
  for (const m of text.matchAll(JWT_RE)) {
    const jwt = describeJwt(m[0].split('.'));
    if (!jwt?.alg && !jwt?.typ) continue; // "eyJ..." that does not decode to a JOSE header
    const parts = [`alg ${jwt.alg ?? '?'}`, ...(jwt.kid ? [`kid ${shorten(jwt.kid)}`] : [])];
    const claims = [...(jwt.issuer ? [`iss ${jwt.issuer}`] : []), ...(jwt.subject ? [`sub ${jwt.subject}`] : [])];
    const what = jwt.kubernetesServiceAccount ? 'Kubernetes service-account JWT' : 'JWT';
    out.push({ kind: 'jwt', offset: m.index, jwt, description: `${what} (${parts.join(', ')}${claims.length ? `; ${claims.join(', ')}` : ''})` });
  }
  for (const m of text.matchAll(PEM_RE)) {
    out.push({ kind: 'private_key', offset: m.index, description: `PEM ${m[1]!.toLowerCase()} block` });
  }
  for (const m of text.matchAll(AWS_KEY_RE)) {
    out.push({ kind: 'aws_access_key_id', offset: m.index, description: `AWS access key id ${m[0]}` });
  }
  return out.sort((a, b) => a.offset - b.offset);
}
