import { aiSdkParts, USAGE_FORMATS } from './formats.js';
import type { Meter, MeterInternals, MeteredStream, StreamOptions } from './meter.js';
import { MeterError, type MeterSettlement } from './service.js';

/** The parts of the AI SDK's middleware types the kit uses (`LanguageModelV4Middleware`; V2/V3 alike). */
interface StreamCallParams {
  abortSignal?: AbortSignal;
  [field: string]: unknown;
}

interface StreamResult {
  stream: ReadableStream<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  [field: string]: unknown;
}

interface GenerateResult {
  content?: Array<{ type: string; text?: string }>;
  finishReason?: unknown;
  usage?: unknown;
  response?: { modelId?: unknown };
  [field: string]: unknown;
}

export interface MeterMiddleware {
  readonly specificationVersion: 'v4';
  transformParams: (options: { type: 'generate' | 'stream'; params: any }) => PromiseLike<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  wrapStream: (options: { doStream: () => PromiseLike<any>; params: any }) => PromiseLike<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  wrapGenerate: (options: { doGenerate: () => PromiseLike<any>; params: any }) => PromiseLike<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** The metered call (stream or generate) of the last call through this middleware, once it started. */
  readonly last: Promise<MeteredStream<unknown>>;
  /** The settlement's answer of that call (as `MeteredStream.settled`). */
  readonly settled: Promise<MeterSettlement>;
}

/**
 * A language-model middleware for the AI SDK (`ai`): `wrapLanguageModel({ model, middleware:
 * meterMiddleware(meter, options) })`, one per request (it names the billed user). Streaming calls
 * (`streamText`) are held before the provider is called and settled from the `finish` part's
 * provider usage (`usage.raw`, in `options.format`); the parts pass through untouched.
 * Non-streaming calls (`generateText`) are metered the same way: held before the provider is called
 * (a refusal, a model the account may not use among them, throws before it is), settled once from
 * the answer's provider usage; the answer passes through untouched.
 */
export function meterMiddleware(meter: Meter, options: Omit<StreamOptions, 'signal'>): MeterMiddleware {
  if (!USAGE_FORMATS.includes(options.format)) throw new MeterError(`unknown format ${String(options.format)}`);
  const internals = meter as MeterInternals;
  let resolveLast!: (stream: Promise<MeteredStream<unknown>>) => void;
  const last = new Promise<MeteredStream<unknown>>((resolve) => (resolveLast = resolve));
  last.catch(() => undefined);
  const settled = last.then((stream) => stream.settled);
  settled.catch(() => undefined);
  // The kit's stop signal reaches the provider through the call's own abortSignal.
  const stops = new WeakMap<object, AbortController>();

  return {
    specificationVersion: 'v4',
    last,
    settled,
    transformParams: async ({ type, params }: { type: 'generate' | 'stream'; params: StreamCallParams }) => {
      if (type !== 'stream') return params;
      const stop = new AbortController();
      const abortSignal = params.abortSignal ? AbortSignal.any([params.abortSignal, stop.signal]) : stop.signal;
      const transformed = { ...params, abortSignal };
      stops.set(transformed, stop);
      return transformed;
    },
    wrapStream: async ({
      doStream,
      params,
    }: {
      doStream: () => PromiseLike<StreamResult>;
      params: StreamCallParams;
    }) => {
      let result: StreamResult | undefined;
      const metered = internals.run<unknown>(
        { ...options, signal: params.abortSignal },
        aiSdkParts,
        async ({ signal }) => {
          const stop = stops.get(params);
          signal.addEventListener('abort', () => stop?.abort(signal.reason), { once: true });
          result = await doStream();
          return result.stream;
        },
      );
      resolveLast(metered);
      const stream = await metered;
      return { ...result, stream: toReadableStream(stream) };
    },
    wrapGenerate: async ({
      doGenerate,
      params,
    }: {
      doGenerate: () => PromiseLike<GenerateResult>;
      params: StreamCallParams;
    }) => {
      let result: GenerateResult | undefined;
      const metered = internals.run<unknown>({ ...options, signal: params.abortSignal }, aiSdkParts, async () => {
        result = await doGenerate();
        return partsOf(result);
      });
      resolveLast(metered);
      // Read to its end: the answer's parts settle the session as a stream's would.
      for await (const _part of await metered);
      return result;
    },
  };
}

/** A whole answer as the stream parts the kit reads: the model that answered, its text as deltas, then its finish. */
async function* partsOf(result: GenerateResult): AsyncGenerator<unknown> {
  if (typeof result.response?.modelId === 'string')
    yield { type: 'response-metadata', modelId: result.response.modelId };
  for (const item of result.content ?? []) {
    if ((item.type === 'text' || item.type === 'reasoning') && item.text)
      yield { type: 'text-delta', delta: item.text };
  }
  yield { type: 'finish', usage: result.usage, finishReason: result.finishReason };
}

/** A stream that pulls one part when its reader asks, and stops the iteration when it is cancelled. */
function toReadableStream<T>(iterable: AsyncIterable<T>): ReadableStream<T> {
  const iterator = iterable[Symbol.asyncIterator]();
  return new ReadableStream<T>(
    {
      async pull(controller) {
        const next = await iterator.next();
        if (next.done) controller.close();
        else controller.enqueue(next.value);
      },
      async cancel() {
        await iterator.return?.();
      },
    },
    { highWaterMark: 0 },
  );
}
