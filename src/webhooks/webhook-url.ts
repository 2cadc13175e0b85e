import { lookup } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';

import { bareHost, isPublicAddress } from './address-policy.js';
import { AllowedNetworks } from './allowed-networks.js';

/** No WEBHOOK_ALLOWED_NETWORKS: the public rules alone. */
export const NO_NETWORKS = new AllowedNetworks();

/** Resolves a host name to every address it has (tests replace it to play a rebinding DNS). */
export type Resolver = (hostname: string) => Promise<Array<{ address: string; family: number }>>;

export const systemResolver: Resolver = (hostname) => lookup(hostname, { all: true, verbatim: true });

/** Why a URL or an address is refused (the message is shown to the admin or stored as lastError). */
export class UrlRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UrlRefusedError';
  }
}

/**
 * The URL's shape: absolute, https (http too when private URLs are allowed), no credentials, and on
 * https's own port unless private URLs are allowed: an admin-chosen port on a public host is how a
 * webhook reaches a service that was never meant to receive one (a database, an admin interface
 * exposed on another port), and real receivers listen on 443.
 */
export function parseWebhookUrl(raw: string, allowPrivate: boolean, allowedPorts: number[] = [443]): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UrlRefusedError('url must be an absolute URL');
  }
  const schemes = allowPrivate ? ['https:', 'http:'] : ['https:'];
  if (!schemes.includes(url.protocol))
    throw new UrlRefusedError(`url must be ${allowPrivate ? 'http or https' : 'https'}`);
  if (url.username || url.password) throw new UrlRefusedError('url must not contain credentials');
  if (!url.hostname) throw new UrlRefusedError('url must name a host');
  // The URL parser drops a scheme's default port (https://h:443/ → port ''), so '' is 443 here.
  const port = url.port === '' ? 443 : Number(url.port);
  if (!allowPrivate && !allowedPorts.includes(port)) {
    throw new UrlRefusedError(`url must use port ${allowedPorts.join(' or ')} (WEBHOOK_ALLOWED_PORTS)`);
  }
  return url;
}

/** Every address a host stands for (an IP literal is its own address). */
async function addressesOf(host: string, resolve: Resolver): Promise<Array<{ address: string; family: number }>> {
  const family = isIP(host);
  if (family !== 0) return [{ address: host, family }];
  let addresses: Array<{ address: string; family: number }>;
  try {
    addresses = await resolve(host);
  } catch {
    throw new UrlRefusedError(`url host ${host} does not resolve`);
  }
  if (addresses.length === 0) throw new UrlRefusedError(`url host ${host} does not resolve`);
  return addresses;
}

/** Every address the host stands for must be public (an IP literal is its own address). */
export async function publicAddressesOf(
  host: string,
  resolve: Resolver,
): Promise<Array<{ address: string; family: number }>> {
  const addresses = await addressesOf(host, resolve);
  if (addresses.some((a) => !isPublicAddress(a.address)))
    // What an internal name resolves to is not the caller's business: the message never names it.
    throw new UrlRefusedError(
      isIP(host) !== 0
        ? `url host ${host} is not a public address`
        : `url host ${host} resolves to a non-public address`,
    );
  return addresses;
}

/**
 * The addresses a delivery may connect to: all inside WEBHOOK_ALLOWED_NETWORKS, else all public.
 * `insideOnly` (an http URL): only the operator's networks will do.
 */
export async function reachableAddressesOf(
  host: string,
  resolve: Resolver,
  networks: AllowedNetworks,
  insideOnly = false,
): Promise<Array<{ address: string; family: number }>> {
  const addresses = await addressesOf(host, resolve);
  if (networks.coversAll(addresses)) return addresses;
  if (insideOnly) throw new UrlRefusedError(`url host ${host} is outside WEBHOOK_ALLOWED_NETWORKS: url must be https`);
  return publicAddressesOf(host, resolve);
}

/**
 * The check at creation or update: shape, then (unless private URLs are allowed) the addresses now.
 * An endpoint whose addresses all fall in WEBHOOK_ALLOWED_NETWORKS may use http and any port; any
 * other keeps the public rules (https, WEBHOOK_ALLOWED_PORTS, public addresses).
 */
export async function checkWebhookUrl(
  raw: string,
  allowPrivate: boolean,
  resolve: Resolver,
  allowedPorts: number[] = [443],
  networks: AllowedNetworks = NO_NETWORKS,
): Promise<string> {
  if (allowPrivate || networks.empty) {
    const url = parseWebhookUrl(raw, allowPrivate, allowedPorts);
    if (!allowPrivate) await publicAddressesOf(bareHost(url), resolve);
    return url.toString();
  }
  const url = parseWebhookUrl(raw, true);
  if (networks.coversAll(await addressesOf(bareHost(url), resolve))) return url.toString();
  parseWebhookUrl(raw, false, allowedPorts);
  await publicAddressesOf(bareHost(url), resolve);
  return url.toString();
}

/**
 * The `lookup` of the delivery's socket: the addresses are checked when the connection is made, so a
 * name that resolved to a public address at creation and to a private one now (DNS rebinding) is
 * refused before any byte is sent.
 */
export function guardedLookup(
  resolve: Resolver,
  networks: AllowedNetworks = NO_NETWORKS,
  insideOnly = false,
): LookupFunction {
  return (hostname, options, callback) => {
    reachableAddressesOf(hostname, resolve, networks, insideOnly).then(
      (addresses) => {
        const wanted =
          options.family === 4 || options.family === 6
            ? addresses.filter((a) => a.family === options.family)
            : addresses;
        if (wanted.length === 0) {
          callback(
            Object.assign(new Error(`no IPv${options.family} address for ${hostname}`), { code: 'ENOTFOUND' }),
            '',
            0,
          );
        } else if (options.all) {
          (callback as unknown as (e: null, a: typeof wanted) => void)(null, wanted);
        } else {
          callback(null, wanted[0].address, wanted[0].family);
        }
      },
      (error: Error) => callback(Object.assign(error, { code: 'EWEBHOOKREFUSED' }), '', 0),
    );
  };
}
