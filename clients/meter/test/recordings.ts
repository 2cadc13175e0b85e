/**
 * Each provider's streaming answer as it travels on the wire (server-sent events), shaped after the
 * examples of the providers' API references: OpenAI Chat Completions chunks ending with the usage
 * chunk that `stream_options.include_usage` asks for, Responses events up to `response.completed`,
 * Anthropic's `message_start` … `content_block_delta` … `message_delta` … `message_stop`, and Gemini
 * `streamGenerateContent?alt=sse` chunks whose last `usageMetadata` is the total. The counts are
 * chosen so every token kind is non-zero where the format has it (cache reads, cache writes,
 * reasoning), which is what the service's mapping must get right.
 */

export interface Recording {
  events: { event?: string; data: string }[];
  /** Events up to and including the second output chunk (what a `hang` replay sends). */
  stopAfter: number;
  /** The usage object the kit must send as `providerUsage.usage` for a completed stream. */
  usage: Record<string, unknown>;
  /** The provider's answer to a failed request (before any chunk). */
  error: { status: number; body: string };
}

const data = (value: unknown, event?: string) => ({ event, data: JSON.stringify(value) });

// --- OpenAI Chat Completions -------------------------------------------------------------------
const chatUsage = {
  prompt_tokens: 2006,
  completion_tokens: 300,
  total_tokens: 2306,
  prompt_tokens_details: { cached_tokens: 1920, audio_tokens: 0 },
  completion_tokens_details: {
    reasoning_tokens: 192,
    audio_tokens: 0,
    accepted_prediction_tokens: 0,
    rejected_prediction_tokens: 0,
  },
};
const chatChunk = (choices: unknown[], usage: unknown = null) => ({
  id: 'chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT',
  object: 'chat.completion.chunk',
  created: 1741570283,
  model: 'gpt-4o-2024-08-06',
  service_tier: 'default',
  system_fingerprint: 'fp_fc9f1d7035',
  choices,
  usage,
});
const chatDelta = (delta: unknown, finish_reason: string | null = null) =>
  chatChunk([{ index: 0, delta, logprobs: null, finish_reason }]);

const openaiChat: Recording = {
  events: [
    data(chatDelta({ role: 'assistant', content: '', refusal: null })),
    data(chatDelta({ content: 'Hello' })),
    data(chatDelta({ content: '!' })),
    data(chatDelta({ content: ' How' })),
    data(chatDelta({ content: ' can' })),
    data(chatDelta({ content: ' I' })),
    data(chatDelta({ content: ' help' })),
    data(chatDelta({ content: '?' })),
    data(chatDelta({}, 'stop')),
    data(chatChunk([], chatUsage)),
    { data: '[DONE]' },
  ],
  stopAfter: 3,
  usage: chatUsage,
  error: {
    status: 500,
    body: JSON.stringify({
      error: {
        message: 'The server had an error while processing your request. Sorry about that!',
        type: 'server_error',
        param: null,
        code: null,
      },
    }),
  },
};

// --- OpenAI Responses --------------------------------------------------------------------------
const responsesUsage = {
  input_tokens: 1200,
  input_tokens_details: { cached_tokens: 1024 },
  output_tokens: 300,
  output_tokens_details: { reasoning_tokens: 128 },
  total_tokens: 1500,
};
const response = (status: string, usage: unknown, output: unknown[] = []) => ({
  id: 'resp_67c9fdcecf488190bdd9a0409de3a1ec07b8b0ad4e5eb654',
  object: 'response',
  created_at: 1741290958,
  status,
  error: null,
  incomplete_details: null,
  instructions: 'You are a helpful assistant.',
  max_output_tokens: null,
  model: 'gpt-4.1-2025-04-14',
  output,
  parallel_tool_calls: true,
  previous_response_id: null,
  reasoning: { effort: null, summary: null },
  store: true,
  temperature: 1,
  text: { format: { type: 'text' } },
  tool_choice: 'auto',
  tools: [],
  top_p: 1,
  truncation: 'disabled',
  usage,
  user: null,
  metadata: {},
});
const itemId = 'msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654';
const message = (status: string, text: string) => ({
  id: itemId,
  type: 'message',
  status,
  role: 'assistant',
  content: text ? [{ type: 'output_text', text, annotations: [] }] : [],
});
const words = ['Hi', ' there', '!', ' How', ' can', ' I', ' assist', ' you', ' today', '?'];
let sequence = 0;
const event = (type: string, body: Record<string, unknown>) =>
  data({ type, sequence_number: sequence++, ...body }, type);
const openaiResponses: Recording = {
  events: [
    event('response.created', { response: response('in_progress', null) }),
    event('response.in_progress', { response: response('in_progress', null) }),
    event('response.output_item.added', { output_index: 0, item: message('in_progress', '') }),
    event('response.content_part.added', {
      item_id: itemId,
      output_index: 0,
      content_index: 0,
      part: { type: 'output_text', text: '', annotations: [] },
    }),
    ...words.map((delta) =>
      event('response.output_text.delta', { item_id: itemId, output_index: 0, content_index: 0, delta }),
    ),
    event('response.output_text.done', { item_id: itemId, output_index: 0, content_index: 0, text: words.join('') }),
    event('response.content_part.done', {
      item_id: itemId,
      output_index: 0,
      content_index: 0,
      part: { type: 'output_text', text: words.join(''), annotations: [] },
    }),
    event('response.output_item.done', { output_index: 0, item: message('completed', words.join('')) }),
    event('response.completed', {
      response: response('completed', responsesUsage, [message('completed', words.join(''))]),
    }),
  ],
  stopAfter: 6,
  usage: responsesUsage,
  error: {
    status: 500,
    body: JSON.stringify({
      error: {
        message: 'The server had an error processing your request.',
        type: 'server_error',
        param: null,
        code: 'server_error',
      },
    }),
  },
};

// --- Anthropic Messages ------------------------------------------------------------------------
const anthropicStartUsage = {
  input_tokens: 50,
  cache_creation_input_tokens: 1000,
  cache_read_input_tokens: 2000,
  output_tokens: 1,
};
/** message_delta's usage: cumulative totals (never increments to add). */
const anthropicDeltaUsage = {
  input_tokens: 50,
  cache_creation_input_tokens: 1000,
  cache_read_input_tokens: 2000,
  output_tokens: 300,
};
const anthropic: Recording = {
  events: [
    data(
      {
        type: 'message_start',
        message: {
          id: 'msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY',
          type: 'message',
          role: 'assistant',
          content: [],
          model: 'claude-sonnet-4-5-20250929',
          stop_reason: null,
          stop_sequence: null,
          usage: anthropicStartUsage,
        },
      },
      'message_start',
    ),
    data({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }, 'content_block_start'),
    data({ type: 'ping' }, 'ping'),
    data(
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hello' } },
      'content_block_delta',
    ),
    data({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: '!' } }, 'content_block_delta'),
    data(
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: ' How can I help?' } },
      'content_block_delta',
    ),
    data({ type: 'content_block_stop', index: 0 }, 'content_block_stop'),
    data(
      { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: anthropicDeltaUsage },
      'message_delta',
    ),
    data({ type: 'message_stop' }, 'message_stop'),
  ],
  stopAfter: 5,
  usage: anthropicDeltaUsage,
  error: {
    status: 529,
    body: JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }),
  },
};

// --- Gemini ------------------------------------------------------------------------------------
const geminiUsage = {
  promptTokenCount: 1000,
  candidatesTokenCount: 120,
  totalTokenCount: 1370,
  cachedContentTokenCount: 600,
  thoughtsTokenCount: 250,
  promptTokensDetails: [{ modality: 'TEXT', tokenCount: 1000 }],
  cacheTokensDetails: [{ modality: 'TEXT', tokenCount: 600 }],
};
const geminiChunk = (text: string, usageMetadata: unknown, finishReason?: string) => ({
  candidates: [{ content: { parts: [{ text }], role: 'model' }, ...(finishReason && { finishReason }), index: 0 }],
  usageMetadata,
  modelVersion: 'gemini-2.5-flash',
  responseId: 'mAitaLmkHPPlz7IPvtfUqQ4',
});
const geminiRunning = (candidates: number) => ({
  promptTokenCount: 1000,
  candidatesTokenCount: candidates,
  totalTokenCount: 1000 + candidates + 250,
  cachedContentTokenCount: 600,
  thoughtsTokenCount: 250,
  promptTokensDetails: [{ modality: 'TEXT', tokenCount: 1000 }],
  cacheTokensDetails: [{ modality: 'TEXT', tokenCount: 600 }],
});
const gemini: Recording = {
  events: [
    data(geminiChunk('The sky', geminiRunning(2))),
    data(geminiChunk(' is blue because', geminiRunning(6))),
    data(geminiChunk(' molecules in the air scatter', geminiRunning(60))),
    data(geminiChunk(' blue light more than red light.', geminiUsage, 'STOP')),
  ],
  stopAfter: 2,
  usage: geminiUsage,
  error: {
    status: 503,
    body: JSON.stringify({
      error: { code: 503, message: 'The model is overloaded. Please try again later.', status: 'UNAVAILABLE' },
    }),
  },
};

export const RECORDINGS = {
  'openai.chat': openaiChat,
  'openai.responses': openaiResponses,
  anthropic,
  gemini,
} satisfies Record<string, Recording>;

/** What the Gemini recording has reported after its `stopAfter` chunks (a stopped stream's usage). */
export const GEMINI_USAGE_AFTER_TWO = geminiRunning(6);
/** What Anthropic reported before its `message_delta` (a stopped stream's usage). */
export const ANTHROPIC_START_USAGE = anthropicStartUsage;
