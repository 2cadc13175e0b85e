import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Who runs PostgreSQL on a data directory, from its postmaster.pid and /proc: small and free of the
 * embedded server's packages, so that the check before `npm start` builds (scripts/preflight.mjs)
 * can read it too.
 */

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function parentPid(pid: number): number | null {
  try {
    // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may contain spaces, so split after ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null;
  }
}

export function postmaster(dataDir: string): { pid: number; port: number } | null {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return null;
  // postmaster.pid: pid, data directory, start time, port, …
  const lines = readFileSync(pidFile, 'utf8').split('\n');
  return { pid: Number(lines[0]), port: Number(lines[3]) };
}

/**
 * The pid of the PostgreSQL that another running copy of the service runs on `dataDir`, or null.
 * A server whose parent is gone (its parent is now init, pid 1) is an orphan a start stops itself.
 */
export function ownerOf(dataDir: string): number | null {
  const server = postmaster(dataDir);
  if (!server || !Number.isInteger(server.pid) || server.pid <= 0 || !isAlive(server.pid)) return null;
  return parentPid(server.pid) === 1 ? null : server.pid;
}
