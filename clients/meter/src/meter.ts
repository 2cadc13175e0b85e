import {
  paramsFor,
  type ProviderParams,
  type Reader,
  READERS,
  type Reading,
  type Termination,
  USAGE_FORMATS,
  type UsageFormat,
} from './formats.js';
import {
  type CheckOptions,
  type Counts,
  type FeatureCheck,
  MeterError,
  MeterRefusedError,
  type MeterSession,
  type MeterSettlement,
  type RetryOptions,
  SessionsApi,
  type SettleBody,
} from './service.js';

/** Tiers the service prices at the base prices: the kit does not name them. */
const BASE_TIERS = ['default', 'standard', 'auto'];

export interface MeterOptions {
  /** The service's origin, `http://host:port`, without `/api`. */
  baseUrl: string;
  /** A service key (an API key with the scope `usage:ingest`). */
  apiKey: string;
  /** Another fetch (tests, proxies); default: the global one. */
  fetch?: typeof fetch;
  /** How settlements (and the hold) are retried when the service does not answer. */
  retry?: RetryOptions;
  /**
   * The provider's model ids (as its answers name them, e.g. `gpt-4o-2024-08-06`) → the service's
   * pricing `modelId`. When given, each answer's model is compared with the one held for: an answer
   * from a model that prices as another `modelId`, or from one the map does not name, is a
   * `modelMismatch` (the session is still settled at the model it was held for: the service prices a
   * session at its own model, and a settlement names none).
   */
  models?: Record<string, string>;
  /** Called once per stream whose answer came from another model than the one held for. */
  onModelMismatch?: (mismatch: ModelMismatch) => void;
}

/** An answer from another model than the one its session was held for. */
export interface ModelMismatch {
  sessionId: string;
  /** The pricing `modelId` the session was held (and is settled) at. */
  modelId: string;
  /** The model the provider's answer named. */
  providerModel: string;
  /** What `MeterOptions.models` prices that model as; `null` when it names no such model. */
  pricedAs: string | null;
}

export interface StreamOptions {
  /** The billed user (the member, when `orgId` pays). */
  userId: string;
  /** The organisation that pays, when it is not the user's own account. */
  orgId?: string;
  /** The user's API key the usage went through (counts against its budget). */
  apiKeyId?: string;
  modelId: string;
  /** The provider format of the stream's usage (`openai.chat`, `openai.responses`, `anthropic`, `gemini`). */
  format: UsageFormat;
  /** What to hold: the prompt's tokens and the most the answer may take (e.g. its `max_tokens`). */
  estimate: { inputTokens: number; outputTokens: number };
  /** The session's id (unique per user); generated when absent. */
  sessionId?: string;
  /**
   * The service tier asked of the provider, held at (`auto`: the rule's most expensive tier); the
   * settlement names the tier the provider reports.
   */
  serviceTier?: string;
  /** Stops the stream: the provider is stopped and the session aborted (`client_abort`). */
  signal?: AbortSignal;
}

export interface ProviderCallContext {
  /** Hand it to the SDK's request options: the kit stops the provider with it. */
  signal: AbortSignal;
  /** Merge into the provider request (for `openai.chat`: `stream_options.include_usage`). */
  params: ProviderParams;
}

export type ProviderCall<Chunk> = (
  context: ProviderCallContext,
) => AsyncIterable<Chunk> | PromiseLike<AsyncIterable<Chunk>>;

/** The provider's stream, chunk for chunk, metered. Iterate it once. */
export interface MeteredStream<Chunk> extends AsyncIterable<Chunk> {
  readonly sessionId: string;
  /** The initialize answer (the hold). */
  readonly session: MeterSession;
  /**
   * The settlement's answer (`finalize` or `abort`), once the stream ended, stopped or failed.
   * Rejects with a `MeterError` when the service refused or never answered the settlement.
   */
  readonly settled: Promise<MeterSettlement>;
  /** How the stream ended, once it did. */
  readonly termination: Termination | undefined;
  /** The model the provider's answer named, once it did. */
  readonly providerModel: string | undefined;
  /**
   * Set once the stream settled when `MeterOptions.models` is given and the answer's model prices
   * as another `modelId` than the one held for (or is not in the map).
   */
  readonly modelMismatch: ModelMismatch | undefined;
  /** Stops the provider and aborts the session (`client_abort`), whether or not it is being read. */
  cancel(): Promise<MeterSettlement>;
}

export interface Meter {
  /**
   * Holds credits for the estimate (a refusal throws a `MeterRefusedError` and `call` is never
   * made), calls the provider, and returns its stream, metered.
   */
  stream<Chunk>(options: StreamOptions, call: ProviderCall<Chunk>): Promise<MeteredStream<Chunk>>;
  /**
   * May the account use the feature (`POST /api/entitlements/check`)? With `consume`, an allowed
   * check also takes that many uses of a metered feature's limit. Retried like a settlement, with one
   * `Idempotency-Key`, so a lost answer never takes twice; a service that never answers throws
   * `MeterUnavailableError` (never a yes).
   */
  check(featureKey: string, options: CheckOptions): Promise<FeatureCheck>;
}

/** The kit's internals, shared with the AI SDK middleware (which reads stream parts, not chunks). */
export interface MeterInternals extends Meter {
  run<Chunk>(options: StreamOptions, reader: Reader, call: ProviderCall<Chunk>): Promise<MeteredStream<Chunk>>;
}

/** A meter for one service and one service key. */
export function createMeter(options: MeterOptions): Meter {
  const api = new SessionsApi(options);
  const meter: MeterInternals = {
    stream: (streamOptions, call) => {
      if (!USAGE_FORMATS.includes(streamOptions.format)) {
        return Promise.reject(new MeterError(`unknown format ${String(streamOptions.format)}`));
      }
      return meter.run(streamOptions, READERS[streamOptions.format], call);
    },
    run: (streamOptions, reader, call) => openStream(api, options, streamOptions, reader, call),
    check: (featureKey, checkOptions) => {
      const { userId, orgId, consume, eventId } = checkOptions;
      const body = {
        featureKey,
        ...(userId !== undefined && { userId }),
        ...(orgId !== undefined && { orgId }),
        ...(consume !== undefined && { consume }),
        ...(eventId !== undefined && { eventId }),
      };
      return api.check(body, randomUUID());
    },
  };
  return meter;
}

async function openStream<Chunk>(
  api: SessionsApi,
  meterOptions: Pick<MeterOptions, 'models' | 'onModelMismatch'>,
  options: StreamOptions,
  read: Reader,
  call: ProviderCall<Chunk>,
): Promise<MeteredStream<Chunk>> {
  const { inputTokens, outputTokens } = options.estimate;
  if (!isCount(inputTokens) || !isCount(outputTokens)) {
    throw new MeterError('estimate.inputTokens and estimate.outputTokens must be integers ≥ 0');
  }
  options.signal?.throwIfAborted();
  const sessionId = options.sessionId ?? randomUUID();
  const session = await api.initialize(
    {
      userId: options.userId,
      ...(options.orgId !== undefined && { orgId: options.orgId }),
      ...(options.apiKeyId !== undefined && { apiKeyId: options.apiKeyId }),
      sessionId,
      modelId: options.modelId,
      inputTokens,
      outputTokens,
      ...(options.serviceTier !== undefined && { serviceTier: options.serviceTier }),
    },
    randomUUID(),
  );

  const controller = new AbortController();
  const reading: Reading = { outputChunks: 0 };
  /** The provider accepted the request (its call returned a stream): its prompt is then billed. */
  let accepted = false;
  let iterating = false;
  let termination: Termination | undefined;
  let modelMismatch: ModelMismatch | undefined;
  let settlement: Promise<MeterSettlement> | undefined;
  let settleWith!: (result: Promise<MeterSettlement>) => void;
  const settled = new Promise<MeterSettlement>((resolve) => (settleWith = resolve));
  settled.catch(() => undefined); // the caller may never look at `settled`

  /** What was seen, counted by the kit: the prompt (at its estimate) once the provider took it, and the output chunks. */
  const seen = (): Counts => ({ inputTokens: accepted ? inputTokens : 0, outputTokens: reading.outputChunks });
  /**
   * The tier the provider reported, else the one asked; none for the base prices (`default`,
   * `standard`, and `auto` once served), which the service prices alike.
   */
  const tier = () => {
    const named = reading.serviceTier ?? options.serviceTier;
    return named === undefined || BASE_TIERS.includes(named) ? undefined : named;
  };
  const counts = (): Counts =>
    reading.usage
      ? {
          providerUsage: {
            format: options.format,
            usage: reading.usage,
            ...(tier() !== undefined && { serviceTier: tier() }),
          },
        }
      : { ...seen(), ...(tier() !== undefined && { serviceTier: tier() }) };

  /** Settles once: the first caller decides how; every later caller gets the same promise. */
  const settle = (how: Termination): Promise<MeterSettlement> => {
    if (settlement) return settlement;
    termination = how;
    options.signal?.removeEventListener('abort', onSignal);
    modelMismatch = compareModel(meterOptions.models, options.modelId, reading.model, session.sessionId ?? sessionId);
    // The caller's handler runs apart from the settlement: its failure never stops one.
    const flagged = modelMismatch;
    if (flagged && meterOptions.onModelMismatch) queueMicrotask(() => meterOptions.onModelMismatch!(flagged));
    const send = (body: SettleBody) =>
      how === 'completed' || how === 'max_tokens' ? api.finalize(body, randomUUID()) : api.abort(body, randomUUID());
    const head = { userId: options.userId, sessionId, termination: how };
    const body = { ...head, ...counts() } as SettleBody;
    // A provider usage object the service refuses (400: nothing was written) must not leave the
    // session open until it expires at its estimate: settle with the kit's own counts instead.
    settlement = send(body).catch((error: unknown) => {
      if (error instanceof MeterRefusedError && error.status === 400 && 'providerUsage' in body) {
        return send({ ...head, ...seen() } as SettleBody);
      }
      throw error;
    });
    settlement.catch(() => undefined);
    settleWith(settlement);
    return settlement;
  };

  // The caller's signal stops the provider; a stream nobody is reading is settled at once (one that
  // is being read settles when its read ends, with what it saw).
  function onSignal() {
    controller.abort(options.signal?.reason);
    if (!iterating) void settle('client_abort');
  }
  options.signal?.addEventListener('abort', onSignal, { once: true });

  let source: AsyncIterable<Chunk>;
  try {
    source = await call({ signal: controller.signal, params: paramsFor(options.format) });
  } catch (error) {
    // Refused or failed before any chunk: nothing was generated.
    await settle(controller.signal.aborted ? 'client_abort' : 'upstream_error').catch(() => undefined);
    throw error;
  }
  accepted = true;
  if (controller.signal.aborted) void settle('client_abort');

  // One iterator for the stream's life: reading it again continues where it stopped (SDK streams
  // are read once, too).
  async function* iterate(): AsyncGenerator<Chunk, void, undefined> {
    iterating = true;
    let finished = false;
    let failed = false;
    try {
      if (settlement) return; // cancelled before it was read
      for await (const chunk of source) {
        read(chunk, reading);
        yield chunk;
      }
      finished = true;
    } catch (error) {
      failed = true;
      throw error;
    } finally {
      iterating = false;
      // Some SDKs end their iteration quietly when their signal aborts: the signal decides first.
      const how: Termination = controller.signal.aborted
        ? 'client_abort'
        : failed
          ? 'upstream_error'
          : !finished
            ? 'client_abort' // the consumer stopped reading (break, return)
            : (reading.end ?? 'upstream_error'); // ended without the provider's end: cut off
      void settle(how); // before the abort below, which the caller's signal may hear too
      if (!finished) controller.abort();
    }
  }

  const iterator = iterate();
  return {
    [Symbol.asyncIterator]: () => iterator,
    sessionId: session.sessionId ?? sessionId,
    session,
    settled,
    get termination() {
      return termination;
    },
    get providerModel() {
      return reading.model;
    },
    get modelMismatch() {
      return modelMismatch;
    },
    cancel: () => {
      controller.abort();
      const result = settle('client_abort');
      void iterator.return(undefined).catch(() => undefined);
      return result;
    },
  };
}

/** The answer's model against the one held for, when the kit knows how provider models price. */
function compareModel(
  models: Record<string, string> | undefined,
  modelId: string,
  providerModel: string | undefined,
  sessionId: string,
): ModelMismatch | undefined {
  if (!models || providerModel === undefined) return undefined;
  const pricedAs = Object.hasOwn(models, providerModel) ? models[providerModel]! : null;
  return pricedAs === modelId ? undefined : { sessionId, modelId, providerModel, pricedAs };
}

const randomUUID = () => globalThis.crypto.randomUUID();

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}
