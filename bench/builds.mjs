// Builds of other commits of this project, for the versions run of npm run bench (versions.mjs): each
// one taken from git (`git archive`, no work tree of this checkout touched), installed from its own
// lockfile and compiled with its own `nest build` (the server only; the console is not measured), in
// a folder under the system's temporary directory named by the commit, kept for the next run. A ref
// may also name a folder already built (a git work tree of that commit with `dist/src/main.js` and its
// node_modules): it is used as it is.
import { execFileSync, execSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { log, ROOT } from './lib.mjs';

const BUILDS = process.env.BENCH_BUILDS_DIR ?? path.join(tmpdir(), 'accounting-bench-builds');

/** A folder built already: `ref` is a path holding dist/src/main.js. */
const builtFolder = (ref) => ref.includes('/') && existsSync(path.join(ref, 'dist/src/main.js'));

/** The full commit id of `ref` in this checkout's history (of a built folder: its checked-out commit). */
export const commitOf = (ref) =>
  builtFolder(ref)
    ? execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ref, encoding: 'utf8' }).trim()
    : execFileSync('git', ['rev-parse', '--verify', `${ref}^{commit}`], { cwd: ROOT, encoding: 'utf8' }).trim();

/** The folder holding a built `ref` (dist/src/main.js, its node_modules, its bench/ helpers). */
export function buildOf(ref) {
  if (builtFolder(ref)) return path.resolve(ref);
  const commit = commitOf(ref);
  const dir = path.join(BUILDS, commit);
  const main = path.join(dir, 'dist/src/main.js');
  if (existsSync(main)) return dir;
  log(`building ${ref} (${commit.slice(0, 12)}) in ${dir} ...`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  execSync(`git archive --format=tar ${commit} | tar -x -C ${JSON.stringify(dir)}`, { cwd: ROOT, stdio: 'inherit' });
  // Its own node_modules/.bin first: the Node it brings (the `node` dev dependency) and its nest CLI.
  const env = { ...process.env, PATH: `${path.join(dir, 'node_modules/.bin')}:${process.env.PATH}` };
  execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, env, stdio: 'inherit' });
  execFileSync('nest', ['build'], { cwd: dir, env, stdio: 'inherit' });
  if (!existsSync(main)) throw new Error(`${ref}: nest build made no dist/src/main.js`);
  return dir;
}
