import { createHash, createSign, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small OpenID provider for tests: real HTTP on loopback, real RS256-signed ID tokens.
 * Discovery, JWKS, an authorization endpoint that signs the configured user in at once, and a
 * token endpoint that checks the client secret, the code, the redirect URI and the PKCE verifier.
 * `tamper` makes the next ID tokens wrong in one chosen way, to test that they are refused.
 */
export type Tamper = 'none' | 'wrong-audience' | 'expired' | 'forged-signature' | 'wrong-issuer' | 'wrong-nonce' | 'alg-none' | 'hs256';

export interface TestUser {
  sub: string;
  email?: string;
  email_verified?: boolean;
  name?: string;
  groups?: string[];
}

export interface TestProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  user: TestUser;
  tamper: Tamper;
  /** Token requests seen (to assert PKCE and client authentication were used). */
  tokenRequests: { grantType: string | null; verifierOk: boolean; clientOk: boolean }[];
  close(): Promise<void>;
}

const b64url = (value: Buffer | string) => Buffer.from(value).toString('base64url');

function sign(payload: Record<string, unknown>, key: KeyObject, kid: string, alg = 'RS256'): string {
  const header = b64url(JSON.stringify({ alg, kid, typ: 'JWT' }));
  const body = b64url(JSON.stringify(payload));
  const signer = createSign('RSA-SHA256');
  signer.update(`${header}.${body}`);
  return `${header}.${body}.${b64url(signer.sign(key))}`;
}

export async function startTestProvider(options: { clientId?: string; clientSecret?: string; user: TestUser }): Promise<TestProvider> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomBytes(4).toString('hex');
  const codes = new Map<string, { nonce: string; challenge: string; redirectUri: string; user: TestUser }>();
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const provider: TestProvider = {
    issuer,
    clientId: options.clientId ?? 'soc-cockpit',
    clientSecret: options.clientSecret ?? randomBytes(16).toString('hex'),
    user: options.user,
    tamper: 'none',
    tokenRequests: [],
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };

  const json = (res: http.ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  server.on('request', (req, res) => {
    const url = new URL(req.url ?? '/', issuer);
    if (url.pathname === '/.well-known/openid-configuration') {
      return json(res, 200, {
        issuer,
        authorization_endpoint: `${issuer}/authorize`,
        token_endpoint: `${issuer}/token`,
        jwks_uri: `${issuer}/jwks`,
        response_types_supported: ['code'],
        id_token_signing_alg_values_supported: ['RS256'],
        code_challenge_methods_supported: ['S256'],
      });
    }
    if (url.pathname === '/jwks') {
      return json(res, 200, { keys: [{ ...publicKey.export({ format: 'jwk' }), kid, use: 'sig', alg: 'RS256' }] });
    }
    if (url.pathname === '/authorize') {
      const q = url.searchParams;
      if (q.get('response_type') !== 'code' || q.get('client_id') !== provider.clientId || q.get('code_challenge_method') !== 'S256') {
        return json(res, 400, { error: 'invalid_request' });
      }
      const code = randomBytes(16).toString('hex');
      codes.set(code, { nonce: q.get('nonce') ?? '', challenge: q.get('code_challenge') ?? '', redirectUri: q.get('redirect_uri') ?? '', user: provider.user });
      const back = new URL(q.get('redirect_uri')!);
      back.searchParams.set('code', code);
      back.searchParams.set('state', q.get('state') ?? '');
      res.writeHead(302, { location: back.toString() });
      return res.end();
    }
    if (url.pathname === '/token' && req.method === 'POST') {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const form = new URLSearchParams(body);
        const basic = Buffer.from((req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString();
        const clientOk = basic === `${encodeURIComponent(provider.clientId)}:${encodeURIComponent(provider.clientSecret)}`;
        const grant = codes.get(form.get('code') ?? '');
        codes.delete(form.get('code') ?? '');
        const verifierOk = !!grant && createHash('sha256').update(form.get('code_verifier') ?? '').digest('base64url') === grant.challenge;
        provider.tokenRequests.push({ grantType: form.get('grant_type'), verifierOk, clientOk });
        if (!clientOk) return json(res, 401, { error: 'invalid_client' });
        if (!grant || !verifierOk || grant.redirectUri !== form.get('redirect_uri')) return json(res, 400, { error: 'invalid_grant' });
        const now = Math.floor(Date.now() / 1000);
        const claims: Record<string, unknown> = { iss: issuer, aud: provider.clientId, iat: now, exp: now + 300, nonce: grant.nonce, ...grant.user };
        const t = provider.tamper;
        if (t === 'wrong-audience') claims.aud = 'someone-else';
        if (t === 'expired') Object.assign(claims, { iat: now - 3600, exp: now - 600 });
        if (t === 'wrong-issuer') claims.iss = 'http://127.0.0.1:1';
        if (t === 'wrong-nonce') claims.nonce = 'not-the-nonce';
        let idToken = sign(claims, t === 'forged-signature' ? attacker.privateKey : privateKey, kid);
        if (t === 'alg-none') idToken = `${b64url(JSON.stringify({ alg: 'none', kid }))}.${b64url(JSON.stringify(claims))}.`;
        if (t === 'hs256') idToken = sign(claims, privateKey, kid, 'HS256');
        return json(res, 200, { access_token: 'unused', token_type: 'Bearer', id_token: idToken, expires_in: 300 });
      });
      return;
    }
    json(res, 404, { error: 'not_found' });
  });
  return provider;
}
