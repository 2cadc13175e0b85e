import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import jwt from 'jsonwebtoken';
import { describe, expect, it } from 'vitest';

import { DEVELOPMENT_JWT_SECRET } from '../../src/config/app-config.js';

const script = fileURLToPath(new URL('../../scripts/token.mjs', import.meta.url));
const run = async (args: string[], env: Record<string, string | undefined> = {}) => {
  const { JWT_ACCESS_SECRET: _s, JWT_ISSUER: _i, JWT_AUDIENCE: _a, ...base } = process.env;
  const { stdout } = await promisify(execFile)(process.execPath, [script, ...args], { env: { ...base, ...env } });
  return stdout.trim();
};

describe('scripts/token.mjs (npm run token)', () => {
  it('signs with the same development secret the service falls back to', async () => {
    const token = await run(['--sub', 'alice', '--role', 'admin']);
    const claims = jwt.verify(token, DEVELOPMENT_JWT_SECRET, { algorithms: ['HS256'] }) as jwt.JwtPayload;
    expect(claims).toMatchObject({
      sub: 'alice',
      role: 'admin',
      type: 'access',
      email: 'alice@example.com',
      username: 'alice',
    });
    expect(claims.exp! - claims.iat!).toBe(3600);
  });

  it('uses JWT_ACCESS_SECRET when set, and honours --email, --username and --ttl', async () => {
    const secret = 's'.repeat(40);
    const token = await run(['--sub', 'bob', '--email', 'b@x.io', '--username', 'Bob', '--ttl', '60'], {
      JWT_ACCESS_SECRET: secret,
    });
    expect(() => jwt.verify(token, DEVELOPMENT_JWT_SECRET)).toThrow();
    const claims = jwt.verify(token, secret, { algorithms: ['HS256'] }) as jwt.JwtPayload;
    expect(claims).toMatchObject({ sub: 'bob', role: 'user', type: 'access', email: 'b@x.io', username: 'Bob' });
    expect(claims.exp! - claims.iat!).toBe(60);
    expect(jwt.decode(token, { complete: true })?.header.alg).toBe('HS256');
  });

  it('sets iss and aud from --iss/--aud, else from JWT_ISSUER/JWT_AUDIENCE, else none', async () => {
    const decode = (t: string) => jwt.verify(t, DEVELOPMENT_JWT_SECRET, { algorithms: ['HS256'] }) as jwt.JwtPayload;
    expect(decode(await run([]))).not.toHaveProperty('iss');
    expect(decode(await run([]))).not.toHaveProperty('aud');
    expect(decode(await run(['--iss', 'https://auth.example', '--aud', 'accounting']))).toMatchObject({
      iss: 'https://auth.example',
      aud: 'accounting',
    });
    expect(decode(await run([], { JWT_ISSUER: 'https://env.example', JWT_AUDIENCE: 'acc' }))).toMatchObject({
      iss: 'https://env.example',
      aud: 'acc',
    });
  });

  it('prints its usage for --help, and a message (no stack) for a bad option', async () => {
    expect(await run(['--help'])).toContain('Usage: npm run token --');
    const bad = await promisify(execFile)(process.execPath, [script, '--bogus']).catch((error) => error);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("Unknown option '--bogus'");
    expect(bad.stderr).toContain('Usage:');
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  });
});
