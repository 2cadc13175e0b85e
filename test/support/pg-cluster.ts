import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import pg from 'pg';

import { freePort } from './redis-server.js';

const run = promisify(execFile);

/** PostgreSQL 15 server binaries (initdb, pg_ctl, pg_basebackup); PG_BIN overrides. */
export const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';
export const pgBinariesAvailable = ['initdb', 'pg_ctl', 'pg_basebackup'].every((b) => existsSync(path.join(PG_BIN, b)));

/** PostgreSQL refuses to run as root: then the servers run as the postgres OS user. */
const asRoot = userInfo().uid === 0;

async function pgRun(binary: string, args: string[]): Promise<void> {
  const command = asRoot ? 'runuser' : path.join(PG_BIN, binary);
  const argv = asRoot ? ['-u', 'postgres', '--', path.join(PG_BIN, binary), ...args] : args;
  await run(command, argv, { timeout: 60_000 });
}

/**
 * A throwaway primary and a streaming replica of it, each on a free 127.0.0.1 port, in a temporary
 * directory removed by `stop()`. fsync is off: nothing here needs to survive a crash.
 */
export class PrimaryWithReplica {
  private constructor(
    private readonly dir: string,
    readonly primaryPort: number,
    readonly replicaPort: number,
  ) {}

  url(which: 'primary' | 'replica', database = 'accounting'): string {
    const port = which === 'primary' ? this.primaryPort : this.replicaPort;
    return `postgres://postgres@127.0.0.1:${port}/${database}`;
  }

  /**
   * A fresh primary and replica. freePort() only finds a port free at that moment: another spec's
   * server may take it before ours binds, so a start refused for its address is tried again on new
   * ports (nothing else is retried).
   */
  static async start(): Promise<PrimaryWithReplica> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await PrimaryWithReplica.startOnce();
      } catch (error) {
        if (attempt >= 3 || !/Address already in use/.test((error as Error).message)) throw error;
      }
    }
  }

  private static async startOnce(): Promise<PrimaryWithReplica> {
    const dir = await mkdtemp(path.join(tmpdir(), 'accounting-replica-'));
    await chmod(dir, 0o755);
    if (asRoot) {
      const { stdout } = await run('id', ['-u', 'postgres']);
      const { stdout: gid } = await run('id', ['-g', 'postgres']);
      await chown(dir, Number(stdout), Number(gid));
    }
    // Two calls may be handed the same just-released port: the replica needs one of its own.
    const primaryPort = await freePort();
    let replicaPort = await freePort();
    while (replicaPort === primaryPort) replicaPort = await freePort();
    const cluster = new PrimaryWithReplica(dir, primaryPort, replicaPort);
    try {
      const primary = path.join(dir, 'primary');
      const replica = path.join(dir, 'replica');
      await pgRun('initdb', ['-D', primary, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8']);
      await cluster.startServer(primary, cluster.primaryPort);
      const admin = new pg.Client({ connectionString: cluster.url('primary', 'postgres') });
      await admin.connect();
      await admin.query('CREATE DATABASE accounting');
      await admin.end();
      // -R writes standby.signal and primary_conninfo: the copy starts as a streaming replica.
      await pgRun('pg_basebackup', [
        ...['-h', '127.0.0.1', '-p', String(cluster.primaryPort), '-U', 'postgres'],
        ...['-D', replica, '-R', '-X', 'stream', '-c', 'fast', '--no-sync'],
      ]);
      await cluster.startServer(replica, cluster.replicaPort);
      return cluster;
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }

  private startServer(dataDir: string, port: number): Promise<void> {
    const options = [
      `-p ${port}`,
      "-c listen_addresses='127.0.0.1'",
      `-c unix_socket_directories='${this.dir}'`,
      '-c fsync=off',
      '-c full_page_writes=off',
      '-c hot_standby_feedback=on',
    ].join(' ');
    return pgRun('pg_ctl', ['-D', dataDir, '-o', options, '-l', `${dataDir}.log`, '-w', '-t', '60', 'start']).catch(
      async (error: Error) => {
        // The server's own log says why it did not start; the directory is removed on the way out.
        const log = await readFile(`${dataDir}.log`, 'utf8').catch(() => '(no log)');
        throw new Error(`${error.message}\n${path.basename(dataDir)}.log:\n${log.slice(-2000)}`);
      },
    );
  }

  /** Takes the replica away (immediate shutdown), leaving the primary running. */
  async stopReplica(): Promise<void> {
    await pgRun('pg_ctl', ['-D', path.join(this.dir, 'replica'), '-m', 'immediate', '-w', 'stop']);
  }

  /** Starts the replica again after stopReplica(): it recovers and streams from the primary. */
  startReplica(): Promise<void> {
    return this.startServer(path.join(this.dir, 'replica'), this.replicaPort);
  }

  async stop(): Promise<void> {
    for (const name of ['replica', 'primary']) {
      const dataDir = path.join(this.dir, name);
      if (existsSync(path.join(dataDir, 'postmaster.pid')))
        await pgRun('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}

/**
 * A throwaway PostgreSQL server of a spec's own, on a free 127.0.0.1 port, that the spec may restart
 * (immediate shutdown: what a crash of the server does to its clients) without touching the run's
 * shared server. `stop()` removes it.
 */
export class ThrowawayServer {
  private constructor(
    private readonly dir: string,
    readonly port: number,
  ) {}

  url(database = 'accounting'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  private get dataDir(): string {
    return path.join(this.dir, 'data');
  }

  static async start(): Promise<ThrowawayServer> {
    const dir = await mkdtemp(path.join(tmpdir(), 'accounting-server-'));
    await chmod(dir, 0o755);
    if (asRoot) {
      const { stdout } = await run('id', ['-u', 'postgres']);
      const { stdout: gid } = await run('id', ['-g', 'postgres']);
      await chown(dir, Number(stdout), Number(gid));
    }
    const server = new ThrowawayServer(dir, await freePort());
    try {
      await pgRun('initdb', ['-D', server.dataDir, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8']);
      await server.startServer();
      const admin = new pg.Client({ connectionString: server.url('postgres') });
      await admin.connect();
      await admin.query('CREATE DATABASE accounting');
      await admin.end();
      return server;
    } catch (error) {
      await server.stop();
      throw error;
    }
  }

  private startServer(): Promise<void> {
    const options = [
      `-p ${this.port}`,
      "-c listen_addresses='127.0.0.1'",
      `-c unix_socket_directories='${this.dir}'`,
      '-c fsync=off',
      '-c full_page_writes=off',
    ].join(' ');
    return pgRun('pg_ctl', ['-D', this.dataDir, '-o', options, '-l', `${this.dataDir}.log`, '-w', '-t', '60', 'start']);
  }

  /** Stops the server as a crash would (every connection cut, recovery at the next start) and starts it. */
  async restart(): Promise<void> {
    await pgRun('pg_ctl', ['-D', this.dataDir, '-m', 'immediate', '-w', 'stop']);
    await this.startServer();
  }

  async stop(): Promise<void> {
    if (existsSync(path.join(this.dataDir, 'postmaster.pid')))
      await pgRun('pg_ctl', ['-D', this.dataDir, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
    await rm(this.dir, { recursive: true, force: true });
  }
}
