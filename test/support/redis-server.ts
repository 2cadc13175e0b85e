import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';

/** A free TCP port on 127.0.0.1 (nothing listens on it once this returns). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * A throwaway redis-server on 127.0.0.1 (no persistence) that a test can stop and start again on
 * the same port, to take Redis away from running apps and give it back.
 */
export class TestRedis {
  private process: ChildProcess | null = null;
  private constructor(readonly port: number) {}

  static async start(): Promise<TestRedis> {
    const redis = new TestRedis(await freePort());
    await redis.resume();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async resume(): Promise<void> {
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    child.on('error', () => undefined);
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const [ready] = await Promise.race([
      once(child.stdout!, 'data').then(async function wait(): Promise<[boolean]> {
        while (!/Ready to accept connections/.test(out)) await once(child.stdout!, 'data');
        return [true];
      }),
      once(child, 'exit').then(() => [false] as [boolean]),
      once(child, 'error').then(() => [false] as [boolean]),
    ]);
    if (!ready) throw new Error(`redis-server did not start (is it installed?): ${out.slice(-500)}`);
    this.process = child;
  }

  async stop(): Promise<void> {
    const child = this.process;
    this.process = null;
    if (!child || child.exitCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }
}
