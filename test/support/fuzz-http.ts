import http from 'node:http';

import type { BodySpec } from './fuzz-arbitraries.js';
import type { Answer } from './fuzz-openapi.js';
import { RawJson, RawUrl } from './fuzz-values.js';

/** A request as it went over the wire: enough to replay it with curl. */
export interface Sent {
  method: string;
  url: string;
  caller: string;
  headers: Record<string, string>;
  body?: string;
}

const hex = (byte: number) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;

/**
 * Percent-encodes like encodeURIComponent, except that a lone surrogate (which encodeURIComponent
 * refuses) is written as its three WTF-8 bytes: what a lenient client would send.
 */
export function encodeUrlValue(value: unknown): string {
  if (value instanceof RawUrl) return value.text;
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp >= 0xd800 && cp <= 0xdfff)
      out += [0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f)].map(hex).join('');
    else out += encodeURIComponent(ch);
  }
  return out;
}

export function buildUrl(template: string, path: Record<string, unknown>, query: [string, unknown][]): string {
  const url = template.replace(/\{([^}]+)\}/g, (_, name: string) => encodeUrlValue(path[name]));
  const pairs = query.filter(([, v]) => v !== undefined).map(([k, v]) => `${encodeUrlValue(k)}=${encodeUrlValue(v)}`);
  return pairs.length ? `${url}?${pairs.join('&')}` : url;
}

/** JSON text of a value, with RawJson pieces spliced in verbatim. */
function stringify(value: unknown): string | undefined {
  const raws: string[] = [];
  const text = JSON.stringify(value, (_key, v: unknown) => {
    if (v instanceof RawJson) {
      raws.push(v.text);
      return `\u0001raw${raws.length - 1}\u0001`;
    }
    return v;
  });
  return text?.replace(/"\\u0001raw(\d+)\\u0001"/g, (_, i: string) => raws[Number(i)]);
}

function transform(text: string, how: BodySpec['transform'], json: unknown): string {
  switch (how) {
    case 'bom':
      return `\uFEFF${text}`;
    case 'duplicate-key': {
      // The first of two equal keys carries a wrong value: parsers differ on which one wins.
      const key = json && typeof json === 'object' && !Array.isArray(json) ? Object.keys(json)[0] : undefined;
      return key !== undefined && text.startsWith('{') ? `{${JSON.stringify(key)}:"dup",${text.slice(1)}` : text;
    }
    case 'trailing-garbage':
      return `${text} x`;
    case 'truncated':
      return text.slice(0, -1);
    case 'oversized':
      return text.startsWith('{')
        ? `{"pad":"${'x'.repeat(150_000)}",${text.slice(1)}`
        : `[${text},"${'x'.repeat(150_000)}"]`;
    case 'single-quotes':
      return text.replaceAll('"', "'");
    default:
      return text;
  }
}

/** The bytes and Content-Type of a body; undefined: no body at all. */
export function serializeBody(spec: BodySpec | undefined): { text: string; contentType: string | null } | undefined {
  if (!spec) return undefined;
  const contentType = spec.contentType === undefined ? 'application/json' : spec.contentType;
  if (spec.raw !== undefined) return { text: spec.raw, contentType };
  const text = stringify(spec.json);
  if (text === undefined) return undefined;
  return { text: transform(text, spec.transform, spec.json), contentType };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

/**
 * Sends one request with node:http: no client-side normalisation of headers or bodies, and a body is
 * allowed on any method (fetch refuses one on GET).
 */
export function exchange(
  base: URL,
  method: string,
  url: string,
  headers: Record<string, string>,
  body: { text: string; contentType: string | null } | undefined,
  retried = false,
): Promise<Answer> {
  const bytes = body ? Buffer.from(body.text, 'utf8') : undefined;
  const all: Record<string, string | number> = { ...headers };
  if (body?.contentType) all['Content-Type'] = body.contentType;
  if (bytes) all['Content-Length'] = bytes.length;
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: base.hostname,
        port: base.port,
        method: method.toUpperCase(),
        path: url,
        headers: all,
        agent,
        timeout: 20_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer within 20 s')));
    req.on('error', (error: NodeJS.ErrnoException) => {
      // A kept-alive socket the server closed meanwhile: Node's documented case for one retry.
      if (req.reusedSocket && error.code === 'ECONNRESET' && !retried)
        exchange(base, method, url, headers, body, true).then(resolve, reject);
      else reject(error);
    });
    req.end(bytes);
  });
}
