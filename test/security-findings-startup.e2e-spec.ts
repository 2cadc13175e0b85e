import { rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import { StartupError } from '../src/common/startup/startup-checks.js';
import { checkServiceRole } from '../src/database/service-role.js';
import { uniqueId } from './support/app.js';
import { buildServer } from './support/build-server.js';
import { spawnService } from './support/service-process.js';

// The security review's findings about start-up (docs/operations.md, "Two database roles"): the role
// check let through a service role that is a member of the tables' owner, or has CREATEROLE (either
// can become the owner and disable the audit log's trigger), and a superuser DATABASE_URL was refused
// with a stack trace instead of one sentence.

const root = fileURLToPath(new URL('..', import.meta.url));
const outDir = path.join(root, 'node_modules', '.cache', `e2e-startup-build-${process.pid}`);
const mainJs = path.join(outDir, 'src', 'main.js');
const SECRET = 'startup-findings-secret-that-is-long-enough-0123';

describe('security findings: start-up', () => {
  const ownerUrl = inject('databaseUrl');
  let admin: pg.Pool;
  const roles: string[] = [];

  /** A login role of the test server, dropped afterwards; its URL on the test database. */
  async function role(options: string): Promise<string> {
    const name = uniqueId('sf_role').replace(/-/g, '_').toLowerCase();
    roles.push(name);
    await admin.query(`CREATE ROLE ${name} LOGIN PASSWORD '${name}' ${options}`);
    const url = new URL(ownerUrl);
    url.username = name;
    url.password = name;
    return url.toString();
  }

  beforeAll(async () => {
    admin = new pg.Pool({ connectionString: ownerUrl, max: 1 });
  });
  afterAll(async () => {
    for (const name of roles) await admin.query(`DROP ROLE IF EXISTS ${name}`).catch(() => undefined);
    await admin?.end();
    await rm(outDir, { recursive: true, force: true });
  });

  describe('finding: start-up role check', () => {
    it('refuses a service role that is a member of the tables’ owner, or has CREATEROLE; the service role passes', async () => {
      const owner = (
        await admin.query(`SELECT pg_get_userbyid(relowner) AS name FROM pg_class WHERE relname = 'audit_log'`)
      ).rows[0].name as string;
      const member = await role(`IN ROLE "${owner}"`);
      const creator = await role('CREATEROLE');
      for (const [url, why] of [
        [member, /is a member of the role that owns the tables/],
        [creator, /may create roles \(CREATEROLE\)/],
      ] as const) {
        const refused = await checkServiceRole(url, ownerUrl).then(
          () => null,
          (error: unknown) => error,
        );
        expect(refused).toBeInstanceOf(StartupError);
        expect((refused as Error).message).toMatch(why);
        expect((refused as Error).message).not.toContain('\n');
      }
      await expect(checkServiceRole(inject('serviceDatabaseUrl'), ownerUrl)).resolves.toBeUndefined();
    });
  });

  describe('finding: superuser DATABASE_URL', () => {
    beforeAll(async () => {
      await buildServer(outDir);
    }, 240_000);

    it('is refused in one sentence, without a stack, and nothing starts', async () => {
      const url = new URL(await role('SUPERUSER'));
      const superuser = url.username;
      const server = spawnService(mainJs, root, {
        NODE_ENV: 'test',
        JWT_ACCESS_SECRET: SECRET,
        WEBHOOK_SECRET_KEY: SECRET,
        DATABASE_URL: url.toString(),
        DATABASE_MIGRATION_URL: ownerUrl,
        DB_MIGRATIONS_RUN: 'false',
      });
      expect(await server.exit).toBe(1);
      const lines = server
        .output()
        .split('\n')
        .filter((l) => l.trim() !== '');
      expect(lines, server.output()).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`DATABASE_URL's role "${superuser}" is a superuser: connect the service as`));
      expect(server.output()).not.toMatch(/\n\s+at /);
    }, 60_000);
  });
});
