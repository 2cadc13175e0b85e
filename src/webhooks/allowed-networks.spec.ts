import { describe, expect, it } from 'vitest';

import { AllowedNetworks } from './allowed-networks.js';

describe('AllowedNetworks (WEBHOOK_ALLOWED_NETWORKS)', () => {
  const networks = new AllowedNetworks(['10.0.0.0/8', '127.0.0.0/8', 'fd00::/8', '192.168.7.7']);

  it.each([
    ['10.1.2.3', true],
    ['10.255.255.255', true],
    ['11.0.0.1', false],
    ['127.0.0.1', true],
    ['192.168.7.7', true],
    ['192.168.7.8', false],
    ['fd12::1', true],
    ['fe80::1', false],
    // An IPv6 form of an IPv4 address is judged by that address.
    ['::ffff:10.1.2.3', true],
    ['::ffff:a01:203', true],
    ['::ffff:8.8.8.8', false],
    ['intranet.local', false],
  ])('%s inside: %s', (address, inside) => {
    expect(networks.covers(address)).toBe(inside);
  });

  it('covers an endpoint only when every address is inside', () => {
    expect(networks.coversAll([{ address: '10.0.0.5' }, { address: '127.0.0.1' }])).toBe(true);
    expect(networks.coversAll([{ address: '10.0.0.5' }, { address: '93.184.216.34' }])).toBe(false);
    expect(networks.coversAll([])).toBe(false);
  });

  it('without networks, covers nothing', () => {
    const none = new AllowedNetworks();
    expect(none.empty).toBe(true);
    expect(none.covers('10.1.2.3')).toBe(false);
    expect(none.coversAll([{ address: '10.1.2.3' }])).toBe(false);
  });
});
