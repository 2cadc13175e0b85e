import type { AddressInfo } from 'node:net';
import { Worker } from 'node:worker_threads';

import type { TestApp } from './app.js';

/** One request of a burst: its path and JSON body. */
export interface BurstRequest {
  path: string;
  body: unknown;
}

/** One answer: its status and its body as text (status 0: the request failed, the body says why). */
export interface BurstAnswer {
  status: number;
  body: string;
}

// Plain JavaScript, run in the worker: each request written whole on a connection of its own
// (`Connection: close`: the app closes it after the answer), all at once; an answer is read as the
// bytes the connection brought (the app answers with a Content-Length, never chunked).
const SOURCE = `
const { parentPort } = require('node:worker_threads');
const net = require('node:net');
parentPort.on('message', ({ port, headers, requests, counter }) => {
  const answered = new Int32Array(counter);
  const answers = new Array(requests.length);
  let left = requests.length;
  const done = (i, answer) => {
    if (answers[i]) return;
    answers[i] = answer;
    Atomics.add(answered, 0, 1);
    if (--left === 0) parentPort.postMessage(answers);
  };
  const head = Object.entries(headers).map(([k, v]) => k + ': ' + v + '\\r\\n').join('');
  requests.forEach(({ path, body }, i) => {
    const data = Buffer.from(JSON.stringify(body));
    const request = Buffer.concat([
      Buffer.from('POST ' + path + ' HTTP/1.1\\r\\nHost: 127.0.0.1:' + port + '\\r\\nConnection: close\\r\\n' + head +
        'Content-Type: application/json\\r\\nContent-Length: ' + data.length + '\\r\\n\\r\\n'),
      data,
    ]);
    const chunks = [];
    const socket = net.connect(port, '127.0.0.1', () => socket.write(request));
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', (error) => done(i, { status: 0, body: String(error) }));
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const status = Number(/^HTTP\\/1\\.1 (\\d{3})/.exec(text)?.[1] ?? 0);
      const at = text.indexOf('\\r\\n\\r\\n');
      done(i, { status, body: at < 0 ? text : text.slice(at + 4) });
    });
  });
});`;

/**
 * A client in a thread of its own that fires many requests at once, as a script on another machine
 * would: building, sending and reading them costs the thread that serves the app nothing, so what
 * the app's other callers see is what the app does with the requests. The app must be listening.
 */
export class BurstClient {
  private readonly worker = new Worker(SOURCE, { eval: true });
  private readonly online = new Promise((resolve) => this.worker.once('online', resolve));

  constructor(private readonly t: TestApp) {}

  /**
   * Sends `requests` at once with `headers`: how many have been answered so far, and all the answers
   * (in the order of `requests`). One burst at a time.
   */
  async fire(
    requests: BurstRequest[],
    headers: Record<string, string>,
  ): Promise<{ answered: () => number; answers: Promise<BurstAnswer[]> }> {
    await this.online;
    const port = (this.t.app.getHttpServer().address() as AddressInfo | null)?.port;
    if (port === undefined) throw new Error('BurstClient: the app is not listening');
    const counter = new SharedArrayBuffer(4);
    const answered = new Int32Array(counter);
    const answers = new Promise<BurstAnswer[]>((resolve, reject) => {
      this.worker.once('error', reject);
      this.worker.once('message', (all: BurstAnswer[]) => {
        this.worker.off('error', reject);
        resolve(all);
      });
    });
    this.worker.postMessage({ port, headers, requests, counter });
    return { answered: () => Atomics.load(answered, 0), answers };
  }

  close(): Promise<number> {
    return this.worker.terminate();
  }
}
