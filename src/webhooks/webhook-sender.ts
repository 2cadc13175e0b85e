import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';

import { bareHost, isPublicAddress } from './address-policy.js';
import type { AllowedNetworks } from './allowed-networks.js';
import { guardedLookup, NO_NETWORKS, type Resolver, systemResolver } from './webhook-url.js';

export const ATTEMPT_TIMEOUT_MS = 10_000;
/** At most this much of an answer's body is read (kept as the start of lastError). */
const MAX_BODY_BYTES = 4096;
const ERROR_BODY_CHARS = 200;

export interface AttemptOutcome {
  ok: boolean;
  statusCode: number | null;
  error: string | null;
}

export interface SendOptions {
  allowPrivate: boolean;
  /** WEBHOOK_ALLOWED_NETWORKS: receivers there are reached over http too. */
  networks?: AllowedNetworks;
  resolve?: Resolver;
  timeoutMs?: number;
  /** Keep-alive agents to reuse connections with (default: a new connection per attempt). */
  agents?: WebhookAgents;
}

/** One keep-alive agent per protocol, owned by whoever sends (the delivery worker). */
export interface WebhookAgents {
  http: http.Agent;
  https: https.Agent;
}

/**
 * Agents that keep connections to receivers open between deliveries, so an endpoint is not paid a
 * TCP (and TLS) handshake per event. Safe with the address checks: a connection is checked once,
 * when its socket connects (`lookup`), and keeps talking to that checked address; a connection whose
 * answer was not read to the end (timeout, oversized) is destroyed, never reused.
 */
export function webhookAgents(maxSockets: number): WebhookAgents {
  const options = { keepAlive: true, maxSockets, maxFreeSockets: maxSockets, timeout: 60_000 };
  return { http: new http.Agent(options), https: new https.Agent(options) };
}

/**
 * One POST of a signed event. A 2xx answered within the timeout is a success; anything else (another
 * status, a redirect, which is never followed, a refused address, a network error, the timeout) is
 * a failure with the reason. Only the first few KB of an answer are read.
 */
export async function postWebhook(
  target: string,
  headers: Record<string, string>,
  body: string,
  options: SendOptions,
): Promise<AttemptOutcome> {
  const url = new URL(target);
  const resolve = options.resolve ?? systemResolver;
  const timeoutMs = options.timeoutMs ?? ATTEMPT_TIMEOUT_MS;
  const networks = options.networks ?? NO_NETWORKS;
  const secure = url.protocol === 'https:';
  if (!options.allowPrivate) {
    // An IP literal never goes through `lookup`: it is checked here; names as the socket connects.
    const host = bareHost(url);
    const literal = isIP(host) !== 0;
    const refusal =
      literal && networks.covers(host)
        ? null
        : !secure && (literal || networks.empty)
          ? 'url must be https'
          : literal && !isPublicAddress(host)
            ? `${host} is not a public address`
            : null;
    if (refusal) return { ok: false, statusCode: null, error: `refused: ${refusal}` };
  }
  const client = url.protocol === 'https:' ? https : http;
  const agent = options.agents ? (url.protocol === 'https:' ? options.agents.https : options.agents.http) : false;
  const payload = Buffer.from(body, 'utf8');
  return new Promise<AttemptOutcome>((done) => {
    let settled = false;
    /** `reusable`: the answer was read to its end, so its connection may serve the next attempt. */
    const finish = (outcome: AttemptOutcome, reusable = false) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (!reusable || !agent) request.destroy();
      done(outcome);
    };
    const timer = setTimeout(
      () => finish({ ok: false, statusCode: null, error: `timed out after ${timeoutMs / 1000} s` }),
      timeoutMs,
    );
    const request = client.request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': String(payload.length),
          'user-agent': 'accounting-service-webhooks/1',
        },
        ...(options.allowPrivate ? {} : { lookup: guardedLookup(resolve, networks, !secure) }),
      },
      (response) => {
        const status = response.statusCode ?? 0;
        const chunks: Buffer[] = [];
        let size = 0;
        const conclude = (readToEnd: boolean) => {
          const text = Buffer.concat(chunks).toString('utf8').slice(0, ERROR_BODY_CHARS);
          if (status >= 200 && status < 300) finish({ ok: true, statusCode: status, error: null }, readToEnd);
          else if (status >= 300 && status < 400) {
            const location = String(response.headers.location ?? '').slice(0, 200);
            const error = `redirect not followed (Location: ${location})`;
            finish({ ok: false, statusCode: status, error }, readToEnd);
          } else
            finish({ ok: false, statusCode: status, error: `HTTP ${status}${text ? `: ${text}` : ''}` }, readToEnd);
        };
        response.on('data', (chunk: Buffer) => {
          if (size >= MAX_BODY_BYTES) return;
          chunks.push(chunk.subarray(0, MAX_BODY_BYTES - size));
          size += chunk.length;
          if (size >= MAX_BODY_BYTES) conclude(false);
        });
        response.on('end', () => conclude(true));
        response.on('error', () => conclude(false));
      },
    );
    request.on('error', (error: NodeJS.ErrnoException) => {
      const refused = error.code === 'EWEBHOOKREFUSED';
      finish({ ok: false, statusCode: null, error: `${refused ? 'refused: ' : ''}${error.message}`.slice(0, 500) });
    });
    request.end(payload);
  });
}
