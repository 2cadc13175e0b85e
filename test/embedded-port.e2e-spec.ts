import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type EmbeddedDatabase, startEmbeddedPostgres } from '../src/database/server/embedded-postgres.js';

/**
 * The embedded PostgreSQL's port is one the system had free a moment before the server binds it;
 * another process may take it in between (the suite's own connections did: "could not bind …
 * Address already in use"). The start then tries another free port.
 */
describe('the embedded database’s port', () => {
  let dir: string;
  let taken: Server;
  let embedded: EmbeddedDatabase | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'accounting-port-'));
    await chmod(dir, 0o755); // as root the server runs as the postgres user
    taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    await embedded?.stop();
    await new Promise((resolve) => taken.close(resolve));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('starts on another free port when the one it chose was taken before the server bound it', async () => {
    const held = (taken.address() as { port: number }).port;
    const offered: number[] = [];
    const free = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    // The first port offered is the one another process holds; the second is free.
    const ports = [held, free];
    embedded = await startEmbeddedPostgres({
      dataDir: path.join(dir, 'pg'),
      database: 'accounting',
      log: () => {},
      freePort: async () => {
        const port = ports[offered.length] ?? free;
        offered.push(port);
        return port;
      },
    });
    expect(offered).toEqual([held, free]);
    expect(new URL(embedded.url).port).toBe(String(free));
    const client = new pg.Client({ connectionString: embedded.url });
    await client.connect();
    try {
      expect((await client.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await client.end();
    }
  }, 120_000);
});
