import { type ChildProcess, spawn } from 'node:child_process';

export interface ServiceProcess {
  child: ChildProcess;
  /** Everything it wrote to stdout and stderr so far. */
  output: () => string;
  /** The port it listens on, once its start-up log says so (rejects if it exits first). */
  port: Promise<number>;
  exit: Promise<number | null>;
}

/**
 * A built service (`mainJs`, run in `cwd`) as a process of its own, on a free port, with the test's
 * environment minus the variables that pick a database or carry secrets (so each spec says exactly
 * which it sets) plus `env`.
 */
export function spawnService(mainJs: string, cwd: string, env: Record<string, string | undefined>): ServiceProcess {
  let output = '';
  const {
    DATABASE_URL: _d,
    DB_HOST: _h,
    NODE_ENV: _n,
    JWT_ACCESS_SECRET: _j,
    WEBHOOK_SECRET_KEY: _w,
    ...base
  } = process.env;
  const child = spawn(process.execPath, [mainJs], {
    cwd,
    env: { ...base, PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const port = new Promise<number>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      // main.ts's first start-up line: `API      http://localhost:<port>/api`.
      const match = /API\s+http:\/\/localhost:(\d+)\/api/.exec(output);
      if (match) resolve(Number(match[1]));
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exit.then((code) => reject(new Error(`service exited (${code}) before listening:\n${output}`)));
  });
  port.catch(() => undefined);
  return { child, exit, port, output: () => output };
}
