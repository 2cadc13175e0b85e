/**
 * The statement that makes a test database's commits answer before their WAL reaches the disk
 * (synchronous_commit off, for every session opened on it afterwards): a commit is seen by every
 * other session at once as before; only a crash of the server could lose the last ones, and nothing
 * in a test database needs to survive one. A spec's writes then wait for no disk flush (a few ms
 * each). Used on the run's database (global-setup.ts) and on each spec's own (own-database.ts).
 */
export function noCommitFlush(database: string): string {
  return `ALTER DATABASE ${database} SET synchronous_commit = off`;
}
