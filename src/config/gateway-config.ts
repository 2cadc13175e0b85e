import { BlockList, isIP } from 'node:net';

import type { EnvReader } from './env-reader.js';

/** The provider APIs the gateway speaks: OpenAI's (chat, responses, embeddings) and Anthropic's (messages). */
export const GATEWAY_FORMATS = ['openai', 'anthropic'] as const;
export type GatewayFormat = (typeof GATEWAY_FORMATS)[number];

/** One provider the gateway forwards to (docs/gateway.md "Upstreams"). */
export interface GatewayUpstream {
  name: string;
  format: GatewayFormat;
  /** The provider's API root including its version; a route's path after `/v1` is appended. */
  baseUrl: string;
  /** The provider's key, read from the variable `apiKeyEnv` names: held in memory only, never logged. */
  apiKey: string;
  /** Model patterns (`*`: any run of characters), compiled. */
  models: RegExp[];
}

export interface GatewayConfig {
  /** GATEWAY_UPSTREAMS (JSON): the upstreams in order; empty: the gateway is off and `/v1/*` answers 404. */
  upstreams: GatewayUpstream[];
  /** GATEWAY_MAX_OUTPUT_TOKENS: the output bound of a request that names none and whose rule sets none. */
  maxOutputTokens: number;
  /** GATEWAY_UPSTREAM_TIMEOUT_SECONDS: the longest an upstream request may take, start to last byte. */
  upstreamTimeoutSeconds: number;
  /** GATEWAY_MAX_BUFFER_BYTES: the most of one answer that waits in the service for a slow client. */
  maxBufferBytes: number;
  /** GATEWAY_CLIENT_IDLE_SECONDS: a client that reads nothing this long is gone. */
  clientIdleSeconds: number;
  /** GATEWAY_MAX_ANSWER_BYTES: an answer longer than this is cut. */
  maxAnswerBytes: number;
  /** GATEWAY_ALLOWED_BETAS (comma list): the `anthropic-beta` values passed upstream; others are dropped. */
  allowedBetas: string[];
  /** GATEWAY_MAX_CHOICES: the most choices (`n`) a chat completion may ask for; its output bound is × n. */
  maxChoices: number;
  /** GATEWAY_MAX_TOOL_USES: the uses a priced server-side tool is held at when it names no `max_uses`. */
  maxToolUses: number;
}

/** Loopback, private, link-local and unique-local ranges: no upstream there unless private URLs are allowed. */
const PRIVATE = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
] as const)
  PRIVATE.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 127],
  ['fc00::', 7],
  ['fe80::', 10],
  ['::ffff:0:0', 96],
] as const)
  PRIVATE.addSubnet(net, prefix, 'ipv6');

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** `gpt-4o*` → /^gpt-4o.*$/: every other character literal. */
function pattern(glob: string): RegExp {
  return new RegExp(
    `^${glob
      .split('*')
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
}

/** The problem with one upstream's address: the webhook rule (https, no private host) unless private URLs are allowed. */
function addressProblem(raw: unknown, allowPrivate: boolean): string | null {
  if (typeof raw !== 'string') return 'baseUrl must be a URL';
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'baseUrl must be an absolute URL';
  }
  if (url.username || url.password) return 'baseUrl must not contain credentials';
  if (allowPrivate) return url.protocol === 'https:' || url.protocol === 'http:' ? null : 'baseUrl must be http(s)';
  if (url.protocol !== 'https:') return 'baseUrl must be https (http only with WEBHOOK_ALLOW_PRIVATE_URLS)';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const family = isIP(host);
  if (host === 'localhost' || (family !== 0 && PRIVATE.check(host, family === 6 ? 'ipv6' : 'ipv4')))
    return `baseUrl host ${host} is not a public address (WEBHOOK_ALLOW_PRIVATE_URLS allows it)`;
  return null;
}

function upstream(value: unknown, i: number, read: EnvReader, allowPrivate: boolean): GatewayUpstream | null {
  const where = `GATEWAY_UPSTREAMS[${i}]`;
  if (!isObject(value)) return fail(read, `${where} must be an object {name, format, baseUrl, apiKeyEnv, models}`);
  const { name, format, baseUrl, apiKeyEnv, models } = value;
  const unknown = Object.keys(value).find((k) => !['name', 'format', 'baseUrl', 'apiKeyEnv', 'models'].includes(k));
  if (unknown !== undefined) return fail(read, `${where}.${unknown} is not a field`);
  if (typeof name !== 'string' || !/^[\w.-]{1,50}$/.test(name))
    return fail(read, `${where}.name must be 1–50 letters, digits, _ . -`);
  if (typeof format !== 'string' || !(GATEWAY_FORMATS as readonly string[]).includes(format))
    return fail(read, `${where}.format must be one of ${GATEWAY_FORMATS.join(', ')}`);
  const problem = addressProblem(baseUrl, allowPrivate);
  if (problem !== null) return fail(read, `${where}.${problem}`);
  if (typeof apiKeyEnv !== 'string' || !/^[A-Z_][A-Z0-9_]*$/.test(apiKeyEnv))
    return fail(read, `${where}.apiKeyEnv must name an environment variable`);
  // The key itself is never in a message: only the variable's name.
  const apiKey = read.raw(apiKeyEnv);
  if (apiKey === undefined) return fail(read, `${where}.apiKeyEnv: ${apiKeyEnv} is not set`);
  if (
    !Array.isArray(models) ||
    models.length === 0 ||
    !models.every((m) => typeof m === 'string' && m.length > 0 && m.length <= 100)
  )
    return fail(read, `${where}.models must be a non-empty list of model patterns`);
  return {
    name,
    format: format as GatewayFormat,
    baseUrl: (baseUrl as string).replace(/\/+$/, ''),
    apiKey,
    models: (models as string[]).map(pattern),
  };
}

function fail(read: EnvReader, problem: string): null {
  read.problems.push(problem);
  return null;
}

/** GATEWAY_ALLOWED_BETAS: `anthropic-beta` values (letters, digits, `-`, `_`, `.`), comma-separated; default none. */
function betas(read: EnvReader): string[] {
  const list = (read.raw('GATEWAY_ALLOWED_BETAS') ?? '')
    .split(',')
    .map((value) => value.trim())
    .filter((value) => value !== '');
  const bad = list.find((value) => !/^[\w.-]{1,100}$/.test(value));
  if (bad !== undefined) fail(read, `GATEWAY_ALLOWED_BETAS: ${bad} is not a beta name`);
  return list;
}

export function gatewayConfig(read: EnvReader): GatewayConfig {
  // The webhook rule's switch, read leniently here: webhooksConfig reports a bad value once.
  const allowPrivateUrls = ['true', '1', 'yes'].includes(read.raw('WEBHOOK_ALLOW_PRIVATE_URLS')?.toLowerCase() ?? '');
  const raw = read.raw('GATEWAY_UPSTREAMS');
  const upstreams: GatewayUpstream[] = [];
  if (raw !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      parsed = undefined;
    }
    if (!Array.isArray(parsed)) fail(read, 'GATEWAY_UPSTREAMS must be a JSON list of upstreams');
    else
      parsed.forEach((value, i) => {
        const one = upstream(value, i, read, allowPrivateUrls);
        if (one !== null) upstreams.push(one);
      });
  }
  return {
    upstreams,
    maxOutputTokens: read.int('GATEWAY_MAX_OUTPUT_TOKENS', 4096, 1, 10_000_000),
    upstreamTimeoutSeconds: read.int('GATEWAY_UPSTREAM_TIMEOUT_SECONDS', 600, 1, 86_400),
    maxBufferBytes: read.int('GATEWAY_MAX_BUFFER_BYTES', 1024 * 1024, 16 * 1024, 1024 * 1024 * 1024),
    clientIdleSeconds: read.int('GATEWAY_CLIENT_IDLE_SECONDS', 60, 1, 86_400),
    maxAnswerBytes: read.int('GATEWAY_MAX_ANSWER_BYTES', 64 * 1024 * 1024, 1024, 1024 ** 4),
    allowedBetas: betas(read),
    maxChoices: read.int('GATEWAY_MAX_CHOICES', 8, 1, 128),
    maxToolUses: read.int('GATEWAY_MAX_TOOL_USES', 10, 1, 1000),
  };
}
