// The generated fetch client uses the Fetch API's types (BodyInit, RequestInit…): Node's own types
// lack some of them, so programs that include the client get the DOM library's declarations.
/// <reference lib="dom" />
import { type Client, createClient, createConfig } from './generated/client/index.js';

export * from './generated/sdk.gen.js';
export type * from './generated/types.gen.js';
export type { Client } from './generated/client/index.js';

type Secret = string | (() => string | undefined | Promise<string | undefined>);

export interface AccountingClientOptions {
  /** Where the service listens, e.g. `http://localhost:3000` (no trailing `/api`). */
  baseUrl: string;
  /** A JWT access token (Authorization: Bearer), or a function returning the current one. */
  token?: Secret;
  /** An API key (X-API-Key), for callers without a user session. */
  apiKey?: Secret;
  /** The service-to-service key (X-Internal-Api-Key); only verifyApiKey accepts it. */
  internalApiKey?: Secret;
  /** Another fetch (tests, proxies); default: the global one. */
  fetch?: typeof fetch;
}

const read = async (secret: Secret | undefined) => (typeof secret === 'function' ? secret() : secret);

/**
 * A client for every operation of the accounting service. Pass it as `client` to the operation
 * functions: `await recordUsage({ client, body: {...} })` answers `{ data, error, response }`.
 */
export function createAccountingClient(options: AccountingClientOptions): Client {
  return createClient(
    createConfig({
      baseUrl: options.baseUrl.replace(/\/+$/, ''),
      fetch: options.fetch,
      // Each operation lists the schemes it accepts; give each the credential configured for it.
      auth: (scheme) => {
        if (scheme.scheme === 'bearer') return read(options.token);
        if (scheme.name === 'X-API-Key') return read(options.apiKey);
        if (scheme.name === 'X-Internal-Api-Key') return read(options.internalApiKey);
        return undefined;
      },
    }),
  );
}
