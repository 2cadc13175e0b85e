import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { type Recording, RECORDINGS } from './recordings.js';

export type Provider = keyof typeof RECORDINGS;

/**
 * What the next request gets:
 * - `complete`: the whole recording;
 * - `hang`: the recording up to its `stopAfter` mark (two output chunks), then nothing more, the
 *   connection held open until the client goes away;
 * - `fail`: the provider's error answer (HTTP status and body as its API sends them) before any chunk.
 */
export type Behaviour = 'complete' | 'hang' | 'fail';

export interface ReplayRequest {
  provider: Provider;
  path: string;
  body: any;
  /** Resolves when the client closed the connection before the server ended the answer. */
  closedEarly: Promise<void>;
  /** Whether the server wrote the whole recording. */
  ended: boolean;
}

/**
 * A local server on 127.0.0.1 that speaks each provider's streaming wire format, replaying the
 * recordings in ./recordings.ts. Point each SDK's base URL at it.
 */
export class ReplayServer {
  readonly requests: ReplayRequest[] = [];
  behaviour: Behaviour = 'complete';
  /** Changes each event's JSON before it is sent (a stream served at another tier, with web searches); none: as recorded. */
  rewrite: ((provider: Provider, event: Record<string, any>) => Record<string, any>) | undefined;
  private constructor(
    private readonly server: Server,
    readonly origin: string,
  ) {}

  static async start(): Promise<ReplayServer> {
    let replay!: ReplayServer;
    const server = createServer((req, res) => void replay.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    replay = new ReplayServer(server, `http://127.0.0.1:${port}`);
    return replay;
  }

  /** The requests made to one provider. */
  to(provider: Provider): ReplayRequest[] {
    return this.requests.filter((r) => r.provider === provider);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString();
    const path = (req.url ?? '').split('?')[0]!;
    const provider = providerOf(req.method ?? '', path);
    if (!provider) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"no such route"}');
      return;
    }
    const recording: Recording = RECORDINGS[provider];
    let markClosed!: () => void;
    const entry: ReplayRequest = {
      provider,
      path,
      body: text ? JSON.parse(text) : undefined,
      closedEarly: new Promise<void>((resolve) => (markClosed = resolve)),
      ended: false,
    };
    this.requests.push(entry);
    res.on('close', () => {
      if (!entry.ended) markClosed();
    });

    if (this.behaviour === 'fail') {
      entry.ended = true;
      res.writeHead(recording.error.status, { 'content-type': 'application/json' }).end(recording.error.body);
      return;
    }
    if (provider === 'openai.chat' && entry.body?.stream !== true) {
      // A non-streaming Chat Completion: the recording's text and usage in one answer.
      entry.ended = true;
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify(chatCompletion(recording, this.rewrite)));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    let events = this.behaviour === 'hang' ? recording.events.slice(0, recording.stopAfter) : recording.events;
    // OpenAI sends Chat Completions usage only when the request asks for it.
    if (provider === 'openai.chat' && entry.body?.stream_options?.include_usage !== true) {
      events = events.filter((e) => e.data === '[DONE]' || JSON.parse(e.data).usage == null);
    }
    for (const event of events) {
      if (res.destroyed) return;
      const body =
        this.rewrite && event.data !== '[DONE]'
          ? JSON.stringify(this.rewrite(provider, JSON.parse(event.data)))
          : event.data;
      res.write(`${event.event ? `event: ${event.event}\n` : ''}data: ${body}\n\n`);
    }
    if (this.behaviour === 'hang') return; // held open: the client has to stop it
    entry.ended = true;
    res.end();
  }
}

function providerOf(method: string, path: string): Provider | undefined {
  if (method !== 'POST') return undefined;
  if (path === '/v1/chat/completions') return 'openai.chat';
  if (path === '/v1/responses') return 'openai.responses';
  if (path === '/v1/messages') return 'anthropic';
  if (/^\/v1(beta)?\/models\/[^/]+:streamGenerateContent$/.test(path)) return 'gemini';
  return undefined;
}

/** The Chat Completions recording as one `chat.completion` object (what `stream: false` answers), its chunks rewritten first. */
function chatCompletion(recording: Recording, rewrite: ReplayServer['rewrite']): Record<string, unknown> {
  const chunks = recording.events
    .filter((e) => e.data !== '[DONE]')
    .map((e) => JSON.parse(e.data))
    .map((chunk) => (rewrite ? rewrite('openai.chat', chunk) : chunk));
  const text = chunks.map((c) => c.choices?.[0]?.delta?.content ?? '').join('');
  const first = chunks[0];
  return {
    id: first.id,
    object: 'chat.completion',
    created: first.created,
    model: first.model,
    choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null }, finish_reason: 'stop' }],
    usage: recording.usage,
  };
}
