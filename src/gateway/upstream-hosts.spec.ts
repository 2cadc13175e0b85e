import { describe, expect, it } from 'vitest';

import type { GatewayUpstream } from '../config/gateway-config.js';
import type { Resolver } from '../webhooks/webhook-url.js';
import { checkUpstreamHosts } from './upstream-hosts.js';

const upstream = (name: string, baseUrl: string): GatewayUpstream => ({
  name,
  format: 'openai',
  baseUrl,
  apiKey: 'sk-never-in-a-message',
  models: [/^gpt-.*$/],
});
const resolving =
  (addresses: Record<string, string[]>): Resolver =>
  (host) =>
    Promise.resolve((addresses[host] ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));

describe('the upstreams’ host names at start-up', () => {
  it('accepts hosts whose every address is public', async () => {
    const resolve = resolving({ 'api.openai.com': ['162.159.140.245', '2606:4700::6812:1'] });
    await expect(checkUpstreamHosts([upstream('openai', 'https://api.openai.com/v1')], resolve)).resolves.toEqual([]);
  });

  it.each([
    ['a private address', { 'llm.internal.example': ['10.0.0.5'] }],
    ['one private address among public ones', { 'llm.internal.example': ['162.159.140.245', '192.168.1.7'] }],
    ['loopback over IPv6', { 'llm.internal.example': ['::1'] }],
  ])('refuses a host name resolving to %s, naming the upstream and never its key', async (_, addresses) => {
    const check = checkUpstreamHosts(
      [upstream('openai', 'https://api.openai.com/v1'), upstream('internal', 'https://llm.internal.example/v1')],
      resolving({ 'api.openai.com': ['162.159.140.245'], ...addresses }),
    );
    await expect(check).rejects.toThrow(
      'GATEWAY_UPSTREAMS: upstream internal: baseUrl host llm.internal.example resolves to a non-public address',
    );
    await expect(check).rejects.not.toThrow(/sk-never/);
  });

  it('leaves a name that does not resolve at start-up to the request, naming it', async () => {
    const failing: Resolver = () => Promise.reject(new Error('EAI_AGAIN'));
    await expect(checkUpstreamHosts([upstream('openai', 'https://api.openai.com/v1')], failing)).resolves.toEqual([
      'openai',
    ]);
  });
});
