import { describe, expect, it } from 'vitest';

import { embeddedIpv4ForTest, isPublicAddress } from './address-policy.js';

/** Loopback, private, link-local and reserved addresses, every IPv6 form carrying one, and a non-address. */
const REFUSED = [
  '127.0.0.1',
  '127.1.2.3',
  '10.1.2.3',
  '172.16.0.1',
  '172.31.255.255',
  '192.168.1.1',
  '169.254.169.254',
  '100.64.0.1',
  '0.0.0.0',
  '224.0.0.1',
  '255.255.255.255',
  '198.18.0.1',
  '::1',
  '::',
  'fe80::1',
  'fe80::1%eth0',
  'fc00::1',
  'fd12:3456::1',
  'ff02::1',
  '::ffff:127.0.0.1',
  '::ffff:7f00:1',
  '::ffff:10.0.0.1',
  '::ffff:a9fe:a9fe',
  '0:0:0:0:0:ffff:c0a8:0101',
  '64:ff9b::10.0.0.1',
  '64:ff9b::a9fe:a9fe',
  '2002:7f00:1::1',
  '2001:db8::1',
  // IPv4-translated (SIIT), whatever it carries
  '::ffff:0:7f00:1',
  '::ffff:0:127.0.0.1',
  '::FFFF:0:A9FE:A9FE',
  '0:0:0:0:ffff:0:a00:1',
  '::ffff:0:8.8.8.8',
  // IPv4-compatible, whatever it carries
  '::7f00:1',
  '::127.0.0.1',
  '::8.8.8.8',
  // mapped, other spellings
  '0:0:0:0:0:ffff:7f00:1',
  '::FFFF:7F00:1',
  '::ffff:7f00:1%eth0',
  '64:ff9b::7f00:1',
  // ISATAP interface ids carrying an internal IPv4 address, on a public prefix
  '2606:4700::200:5efe:7f00:1',
  '2606:4700::5efe:a00:1',
  '2606:4700::200:5efe:169.254.169.254',
  '3fff::1',
  '5f00::1',
  'not-an-address',
];

/** Public addresses, some in the IPv6 forms above carrying a public IPv4 address. */
const PUBLIC = [
  '8.8.8.8',
  '1.1.1.1',
  '172.32.0.1',
  '93.184.216.34',
  '2606:4700:4700::1111',
  '::ffff:8.8.8.8',
  '64:ff9b::8.8.8.8',
  '2606:4700::200:5efe:808:808',
  '2606:4700::1:5efe:7f00:1',
];

describe('isPublicAddress', () => {
  it.each([...REFUSED.map((a) => [a, 'refused']), ...PUBLIC.map((a) => [a, 'public'])])(
    '%s is %s',
    (address, verdict) => {
      expect(isPublicAddress(address)).toBe(verdict === 'public');
    },
  );
});

describe('IPv6 forms of an IPv4 address', () => {
  it.each([
    ['::ffff:127.0.0.1', '127.0.0.1'],
    ['::ffff:7f00:1', '127.0.0.1'],
    ['0:0:0:0:0:ffff:c0a8:0101', '192.168.1.1'],
    ['64:ff9b::a9fe:a9fe', '169.254.169.254'],
    ['64:ff9b::8.8.8.8', '8.8.8.8'],
    ['2001:db8::1', null],
    ['::1', null],
  ])('%s → %s', (v6, v4) => {
    expect(embeddedIpv4ForTest(v6)).toBe(v4);
  });
});
