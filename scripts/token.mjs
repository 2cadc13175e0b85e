#!/usr/bin/env node
// Mints an access token like the authentication service's, for Swagger UI and curl:
//   npm run token -- --sub alice --role admin [--email a@x.io] [--username alice] [--ttl 3600]
// Signed with JWT_ACCESS_SECRET, or the development secret the service uses when none is set.
import { parseArgs } from 'node:util';

import jwt from 'jsonwebtoken';

// Must equal DEVELOPMENT_JWT_SECRET in src/config/app-config.ts (a unit test checks it).
const DEVELOPMENT_JWT_SECRET = 'development-only-secret-change-me-0123456789';

const USAGE = `Mints an access token (HS256) like the authentication service's, for Swagger UI and curl.

Usage: npm run token -- [--sub alice] [--role user|supervisor|admin] [--email a@x.io] [--username alice] [--ttl 3600]
                       [--iss https://auth.example] [--aud accounting]

  --sub       the user id (default dev-user)
  --role      user (default), supervisor or admin
  --email     default <sub>@example.com
  --username  default <sub>
  --ttl       seconds until it expires (default 3600; the service refuses more than JWT_MAX_TTL_SECONDS, 86400)
  --iss       the iss claim (default JWT_ISSUER, else none)
  --aud       the aud claim (default JWT_AUDIENCE, else none)

Signed with JWT_ACCESS_SECRET, or the development secret the service uses when that is unset
(the service accepts it only on its embedded database in development).
`;

let values;
try {
  ({ values } = parseArgs({
    options: {
      sub: { type: 'string', default: 'dev-user' },
      role: { type: 'string', default: 'user' },
      email: { type: 'string' },
      username: { type: 'string' },
      ttl: { type: 'string', default: '3600' },
      iss: { type: 'string', default: process.env.JWT_ISSUER || undefined },
      aud: { type: 'string', default: process.env.JWT_AUDIENCE || undefined },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }));
} catch (error) {
  process.stderr.write(`${error.message}\n\n${USAGE}`);
  process.exit(2);
}
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
if (!/^\d+$/.test(values.ttl) || Number(values.ttl) < 1) {
  process.stderr.write(`--ttl must be a whole number of seconds, got ${values.ttl}\n\n${USAGE}`);
  process.exit(2);
}

const secret = process.env.JWT_ACCESS_SECRET || DEVELOPMENT_JWT_SECRET;
const claims = {
  sub: values.sub,
  type: 'access',
  role: values.role,
  email: values.email ?? `${values.sub}@example.com`,
  username: values.username ?? values.sub,
};
const options = {
  algorithm: 'HS256',
  expiresIn: Number(values.ttl),
  ...(values.iss ? { issuer: values.iss } : {}),
  ...(values.aud ? { audience: values.aud } : {}),
};
process.stdout.write(`${jwt.sign(claims, secret, options)}\n`);
