import { isIP } from 'node:net';

import type { GatewayUpstream } from '../config/gateway-config.js';
import { isPublicAddress } from '../webhooks/address-policy.js';
import type { Resolver } from '../webhooks/webhook-url.js';

/**
 * The webhook rule's address check for the upstreams' host names, at start-up (the configuration
 * alone checks IP literals and `localhost`): every address a name resolves to must be public, unless
 * WEBHOOK_ALLOW_PRIVATE_URLS. Throws naming the upstream (never its key), which stops start-up. A
 * name that does not resolve now is left to the request (a 502): a DNS hiccup at boot stops nothing.
 * Answers the names that did not resolve.
 */
export async function checkUpstreamHosts(upstreams: readonly GatewayUpstream[], resolve: Resolver): Promise<string[]> {
  const unresolved: string[] = [];
  for (const upstream of upstreams) {
    const host = new URL(upstream.baseUrl).hostname.replace(/^\[|\]$/g, '');
    if (isIP(host) !== 0) continue;
    const addresses = await resolve(host).catch(() => []);
    if (addresses.length === 0) unresolved.push(upstream.name);
    else if (addresses.some((a) => !isPublicAddress(a.address)))
      throw new Error(
        `GATEWAY_UPSTREAMS: upstream ${upstream.name}: baseUrl host ${host} resolves to a non-public address`,
      );
  }
  return unresolved;
}
