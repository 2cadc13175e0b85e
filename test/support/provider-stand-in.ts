import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { RECORDINGS } from '../../clients/meter/test/recordings.js';

/** Token counts of each kind: the stand-in writes them into each provider's own usage object. */
export interface Kinds {
  input: number;
  cacheRead: number;
  cacheWrite: number;
  output: number;
  reasoning: number;
}

/**
 * How the stand-in answers: `complete` the whole recording; `incomplete` (Responses) ends with
 * response.incomplete at max_output_tokens; `hang` sends the first events and waits for the client
 * to go; `error` answers the recording's provider error before any output; `drop` closes the socket
 * after the first events; `refuse` closes it before answering.
 */
export type Mode = 'complete' | 'incomplete' | 'hang' | 'error' | 'drop' | 'refuse';

export interface SeenRequest {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
  /** When the gateway closed the request before its answer ended (ms since the epoch); null: it did not. */
  cancelledAt: number | null;
  /** When the stand-in sent its last event before hanging. */
  hungAt: number | null;
}

export function chatUsage(k: Kinds): Record<string, unknown> {
  return {
    prompt_tokens: k.input + k.cacheRead,
    completion_tokens: k.output + k.reasoning,
    total_tokens: k.input + k.cacheRead + k.output + k.reasoning,
    prompt_tokens_details: { cached_tokens: k.cacheRead, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: k.reasoning, audio_tokens: 0 },
  };
}
export function responsesUsage(k: Kinds): Record<string, unknown> {
  return {
    input_tokens: k.input + k.cacheRead,
    input_tokens_details: { cached_tokens: k.cacheRead },
    output_tokens: k.output + k.reasoning,
    output_tokens_details: { reasoning_tokens: k.reasoning },
    total_tokens: k.input + k.cacheRead + k.output + k.reasoning,
  };
}
export function anthropicUsage(k: Kinds): Record<string, unknown> {
  return {
    input_tokens: k.input,
    cache_creation_input_tokens: k.cacheWrite,
    cache_read_input_tokens: k.cacheRead,
    output_tokens: k.output + k.reasoning,
  };
}

type Event = { event?: string; data: string };
const copy = (event: Event, change: (data: Record<string, unknown>) => void): Event => {
  const data = JSON.parse(event.data) as Record<string, unknown>;
  change(data);
  return { ...event, data: JSON.stringify(data) };
};

/** The text an event streams (a chat delta's content, a Responses text delta, an Anthropic text delta), or null. */
function textOf(event: Event): string | null {
  if (event.data === '[DONE]') return null;
  const d = JSON.parse(event.data) as Record<string, any>;
  const text = d.choices?.[0]?.delta?.content ?? (d.type === 'response.output_text.delta' ? d.delta : d.delta?.text);
  return typeof text === 'string' && text !== '' ? text : null;
}

function setText(d: Record<string, any>, text: string): void {
  if (Array.isArray(d.choices)) d.choices[0].delta.content = text;
  else if (d.type === 'response.output_text.delta') d.delta = text;
  else d.delta.text = text;
}

/**
 * A provider on 127.0.0.1 that speaks OpenAI's and Anthropic's wire formats, from the client kit's
 * recordings (clients/meter/test/recordings.ts), with the usage the test sets; it counts and keeps
 * every request, and notes when the gateway cancels one.
 */
export class ProviderStandIn {
  readonly requests: SeenRequest[] = [];
  mode: Mode = 'complete';
  /** The counts every answer reports (null: the recording's own usage). */
  kinds: Kinds | null = null;
  /** Extra fields of Anthropic's usage (server_tool_use: web searches). */
  anthropicExtra: Record<string, unknown> = {};
  /** Delay before answering, ms. */
  delayMs = 0;
  /**
   * When set, a non-streamed answer is an embeddings list this many bytes long (its usage at the end),
   * written in 64 KiB pieces only as fast as the gateway reads them; `large` counts what was written.
   */
  largeAnswerBytes = 0;
  readonly large = { written: 0, finished: false };
  /** When set, every answer is this error (status and body as the provider writes them). */
  errorAnswer: { status: number; body: string } | null = null;
  /**
   * Extra text chunks streamed right after the recording's first text event (each as that event
   * with its text replaced), and sent before a `hang` or `drop` cut: a long answer to cut anywhere.
   */
  padding: string[] = [];
  /** A non-streamed answer without its `usage` (as a `background: true` Responses answer comes). */
  noUsage = false;
  private server = http.createServer((req, res) => void this.answer(req, res));
  private readonly sockets = new Set<import('node:net').Socket>();

  async start(): Promise<string> {
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The events of a streamed answer of `path`, the usage replaced when `kinds` is set, with the padding. */
  events(path: string, includeUsage: boolean): Event[] {
    const events = this.recorded(path, includeUsage);
    if (this.padding.length === 0) return events;
    const first = events.findIndex((e) => textOf(e) !== null);
    const padded = this.padding.map((text) => copy(events[first], (d) => setText(d, text)));
    return [...events.slice(0, first + 1), ...padded, ...events.slice(first + 1)];
  }

  private recorded(path: string, includeUsage: boolean): Event[] {
    const k = this.kinds;
    if (path === '/v1/chat/completions') {
      const events = RECORDINGS['openai.chat'].events.map((e) =>
        k && e.data !== '[DONE]' ? copy(e, (d) => d.usage !== null && (d.usage = chatUsage(k))) : e,
      );
      // Without include_usage OpenAI sends neither the usage chunk nor `usage: null` fields.
      if (includeUsage) return events;
      return events
        .filter((e) => e.data === '[DONE]' || (JSON.parse(e.data) as { usage: unknown }).usage === null)
        .map((e) => (e.data === '[DONE]' ? e : copy(e, (d) => delete d.usage)));
    }
    if (path === '/v1/responses')
      return RECORDINGS['openai.responses'].events
        .map((e) =>
          e.event !== 'response.completed'
            ? e
            : copy(e, (d) => {
                const response = d.response as Record<string, unknown>;
                if (k) response.usage = responsesUsage(k);
                if (this.mode === 'incomplete') {
                  d.type = 'response.incomplete';
                  response.status = 'incomplete';
                  response.incomplete_details = { reason: 'max_output_tokens' };
                }
              }),
        )
        .map((e) =>
          this.mode === 'incomplete' && e.event === 'response.completed' ? { ...e, event: 'response.incomplete' } : e,
        );
    return RECORDINGS.anthropic.events.map((e) => {
      if (e.event === 'message_start')
        return copy(e, (d) => {
          const message = d.message as Record<string, unknown>;
          if (k) message.usage = { ...anthropicUsage(k), output_tokens: 1 };
        });
      if (e.event === 'message_delta')
        return copy(e, (d) => {
          d.usage = { ...(k ? anthropicUsage(k) : (d.usage as object)), ...this.anthropicExtra };
        });
      return e;
    });
  }

  /** The whole (non-streamed) answer of `path`. */
  answerBody(path: string, body: Record<string, unknown>): Record<string, unknown> {
    const k = this.kinds;
    if (path === '/v1/embeddings')
      return {
        object: 'list',
        data: [{ object: 'embedding', index: 0, embedding: [0.0023064255, -0.009327292, 0.015797347] }],
        model: body.model,
        usage: { prompt_tokens: k?.input ?? 8, total_tokens: k?.input ?? 8 },
      };
    if (path === '/v1/chat/completions')
      return {
        id: 'chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT',
        object: 'chat.completion',
        created: 1741570283,
        model: 'gpt-4o-2024-08-06',
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: 'Hello! How can I help?', refusal: null, annotations: [] },
            logprobs: null,
            finish_reason: 'stop',
          },
        ],
        usage: k ? chatUsage(k) : RECORDINGS['openai.chat'].usage,
        service_tier: 'default',
        system_fingerprint: 'fp_fc9f1d7035',
      };
    if (path === '/v1/responses') {
      const last = this.events(path, true).at(-1)!;
      return (JSON.parse(last.data) as { response: Record<string, unknown> }).response;
    }
    return {
      id: 'msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY',
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-5-20250929',
      content: [{ type: 'text', text: 'Hello! How can I help?' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { ...(k ? anthropicUsage(k) : RECORDINGS.anthropic.usage), ...this.anthropicExtra },
    };
  }

  /**
   * The large answer: an embeddings list of numbers up to `largeAnswerBytes`, then its usage; streamed
   * (`stream: true`), chat chunks of text, then the usage chunk and [DONE]. Written with backpressure.
   */
  private async writeLarge(res: http.ServerResponse, body: Record<string, unknown>): Promise<void> {
    const input = this.kinds?.input ?? 8;
    const streamed = body.stream === true;
    const chunk = (delta: object, extra = '') =>
      `data: {"id":"chatcmpl-large","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":${JSON.stringify(delta)},"finish_reason":null}]${extra}}\n\n`;
    const head = Buffer.from(
      streamed
        ? chunk({ role: 'assistant', content: '' })
        : '{"object":"list","data":[{"object":"embedding","index":0,"embedding":[',
    );
    const tail = Buffer.from(
      streamed
        ? `data: {"id":"chatcmpl-large","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":${JSON.stringify(chatUsage(this.kinds ?? { input, cacheRead: 0, cacheWrite: 0, output: 1, reasoning: 0 }))}}\n\ndata: [DONE]\n\n`
        : `0]}],"model":${JSON.stringify(body.model)},"usage":{"prompt_tokens":${input},"total_tokens":${input}}}`,
    );
    // 65,533 bytes: whole numbers, or whole events.
    const piece = Buffer.from(
      streamed ? chunk({ content: 'x'.repeat(65_533 - chunk({ content: '' }).length) }) : '0.0123456789,'.repeat(5041),
    );
    const step = streamed ? piece.length : 13;
    let left = Math.max(0, this.largeAnswerBytes - head.length - tail.length);
    res.writeHead(200, { 'content-type': streamed ? 'text/event-stream' : 'application/json' });
    const write = async (chunk: Buffer) => {
      if (res.destroyed) return false;
      this.large.written += chunk.length;
      if (!res.write(chunk))
        await new Promise<void>((resolve) => {
          const done = () => {
            res.off('drain', done);
            res.off('close', done);
            resolve();
          };
          res.on('drain', done);
          res.on('close', done);
        });
      return !res.destroyed;
    };
    if (!(await write(head))) return;
    while (left > 0) {
      const n = Math.min(left - (left % step), piece.length);
      if (n === 0) break;
      if (!(await write(piece.subarray(0, n)))) return;
      left -= n;
    }
    if (!(await write(tail))) return;
    res.end(() => (this.large.finished = true));
  }

  private async answer(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
    const seen: SeenRequest = { path: req.url ?? '', headers: req.headers, body, cancelledAt: null, hungAt: null };
    this.requests.push(seen);
    res.on('close', () => {
      if (!res.writableFinished) seen.cancelledAt = Date.now();
    });
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    const path = seen.path;
    const recording =
      path === '/v1/messages'
        ? RECORDINGS.anthropic
        : path === '/v1/responses'
          ? RECORDINGS['openai.responses']
          : RECORDINGS['openai.chat'];
    if (this.mode === 'refuse') return void req.socket.destroy();
    if (this.errorAnswer !== null) {
      res.writeHead(this.errorAnswer.status, { 'content-type': 'application/json' });
      return void res.end(this.errorAnswer.body);
    }
    if (this.mode === 'error') {
      res.writeHead(recording.error.status, { 'content-type': 'application/json' });
      return void res.end(recording.error.body);
    }
    if (this.largeAnswerBytes > 0) return this.writeLarge(res, body);
    if (body.stream !== true) {
      res.writeHead(200, { 'content-type': 'application/json' });
      const answer = this.answerBody(path, body);
      if (this.noUsage) delete answer.usage;
      return void res.end(JSON.stringify(answer));
    }
    const includeUsage = (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
    const events = this.events(path, includeUsage);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const cut =
      this.mode === 'hang' || this.mode === 'drop' ? recording.stopAfter + this.padding.length : events.length;
    const text = events
      .slice(0, cut)
      .map((e) => `${e.event ? `event: ${e.event}\n` : ''}data: ${e.data}\n\n`)
      .join('');
    // Broken after its first events: the socket closes once they have left.
    if (this.mode === 'drop') return void res.write(text, () => setImmediate(() => req.socket.destroy()));
    res.write(text);
    if (this.mode === 'hang') {
      seen.hungAt = Date.now();
      return;
    }
    res.end();
  }
}
