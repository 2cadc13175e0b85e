import { readFileSync } from 'node:fs';
import { setPriority } from 'node:os';

import type pg from 'pg';

/**
 * Lowers the CPU priority of the PostgreSQL process that serves `client` to `nice` (1–19), when that
 * process runs on this machine and may be changed: the process `pg_backend_pid()` names, checked to be
 * PostgreSQL's and titled with this connection's own address and port (PostgreSQL titles a backend
 * `postgres: <user> <database> <host>(<port>) …`), so a database elsewhere, whose process ids mean
 * nothing here, is never touched. Answers whether it was lowered. A lowered backend takes a core only
 * as far as the processes at the ordinary priority (metering's) leave it idle.
 */
export async function lowerBackendPriority(client: pg.PoolClient | pg.Client, nice: number): Promise<boolean> {
  const socket = (client as unknown as { connection?: { stream?: { localAddress?: string; localPort?: number } } })
    .connection?.stream;
  if (nice <= 0 || !socket?.localAddress || !socket.localPort) return false;
  const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  const pid = rows[0]?.pid;
  try {
    const title = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (!title.startsWith('postgres: ') || !title.includes(` ${socket.localAddress}(${socket.localPort}) `))
      return false;
    setPriority(Number(pid), nice);
    return true;
  } catch {
    // No such process here (a remote database, no /proc), or not ours to change.
    return false;
  }
}
