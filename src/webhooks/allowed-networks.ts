import { BlockList, isIP } from 'node:net';

import { ipv4InIpv6 } from './address-policy.js';

/**
 * WEBHOOK_ALLOWED_NETWORKS: the operator's own networks, where webhook receivers inside the platform
 * live (Svix's whitelisted subnets are the model). An endpoint whose addresses ALL fall in them is
 * allowed in every NODE_ENV, over http or https, on any port; one address outside and the public
 * rules apply to the whole endpoint, so a name cannot mix an internal answer with a public one.
 */
export class AllowedNetworks {
  private readonly list = new BlockList();

  /** `cidrs` as validated at boot (config): `10.0.0.0/8`, `fd00::/8`, or one address. */
  constructor(readonly cidrs: readonly string[] = []) {
    for (const cidr of cidrs) {
      const [address, prefix] = cidr.split('/');
      const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
      const bits = prefix === undefined ? (family === 'ipv4' ? 32 : 128) : Number(prefix);
      this.list.addSubnet(address, bits, family);
    }
  }

  get empty(): boolean {
    return this.cidrs.length === 0;
  }

  /** An IPv6 form of an IPv4 address (mapped, NAT64) is judged by that IPv4 address. */
  covers(address: string): boolean {
    const family = isIP(address);
    if (family === 4) return this.list.check(address, 'ipv4');
    if (family !== 6) return false;
    const bare = address.split('%')[0];
    const v4 = ipv4InIpv6(bare);
    return (v4 !== null && this.list.check(v4, 'ipv4')) || this.list.check(bare, 'ipv6');
  }

  coversAll(addresses: ReadonlyArray<{ address: string }>): boolean {
    return !this.empty && addresses.length > 0 && addresses.every((a) => this.covers(a.address));
  }
}
