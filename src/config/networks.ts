import { isIP } from 'node:net';

import type { EnvReader } from './env-reader.js';

/** An address or CIDR that Express (proxy-addr) accepts: a bad one would crash start-up later, unnamed. */
export function isAddressOrCidr(entry: string): boolean {
  const [address, prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
}

/** A comma list of CIDRs (`10.0.0.0/8,fd00::/8`; a bare address is one host); empty: none. */
export function networks(read: EnvReader, name: string): string[] {
  const entries = (read.raw(name) ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  const bad = entries.filter((e) => !isAddressOrCidr(e));
  if (bad.length > 0) read.problems.push(`${name} must be a comma list of CIDRs such as 10.0.0.0/8 (got "${bad[0]}")`);
  return bad.length > 0 ? [] : entries;
}
