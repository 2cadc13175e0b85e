import { BlockList, isIP } from 'node:net';

/**
 * Which addresses a webhook may connect to: public unicast only. Everything special-purpose is
 * refused (IANA IPv4/IPv6 special-purpose registries): loopback, private, CGNAT, link-local (cloud
 * metadata at 169.254.169.254), documentation, benchmarking, multicast, reserved. IPv6 forms that
 * carry an IPv4 address: mapped (`::ffff:a.b.c.d`) and NAT64 (`64:ff9b::a.b.c.d`) are judged by that
 * IPv4 address; compatible (`::a.b.c.d`), translated (`::ffff:0:a.b.c.d`), 6to4 and Teredo are
 * refused whatever they carry (no public service is reached that way); an ISATAP interface id
 * (`…:0:5efe:a.b.c.d`, `…:200:5efe:a.b.c.d`) must carry a public IPv4 address on a public prefix.
 */
const refused = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  refused.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 96], // unspecified, loopback and the deprecated IPv4-compatible form
  ['::ffff:0:0:0', 96], // IPv4-translated (SIIT, RFC 2765): `::ffff:0:7f00:1` is 127.0.0.1 behind a translator
  ['64:ff9b:1::', 48],
  ['100::', 64],
  ['2001::', 23], // IETF protocol assignments, Teredo among them
  ['2001:db8::', 32],
  ['2002::', 16], // 6to4
  ['3fff::', 20], // documentation (RFC 9637)
  ['5f00::', 16], // SRv6 segment identifiers (RFC 9602)
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const) {
  refused.addSubnet(net, prefix, 'ipv6');
}

/** The 16 bytes of an IPv6 address (already validated by isIP). */
function ipv6Bytes(address: string): number[] {
  let text = address.toLowerCase().split('%')[0];
  const tail: number[] = [];
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    tail.push(...dotted[1].split('.').map(Number));
    text = text.slice(0, -dotted[1].length);
    if (!text.endsWith('::')) text = text.slice(0, -1);
  }
  const [head, rest] = text.includes('::') ? text.split('::') : [text, undefined];
  const groups = (s: string) => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const left = groups(head);
  const right = rest === undefined ? [] : groups(rest);
  const wanted = 8 - tail.length / 2;
  const middle = rest === undefined ? [] : new Array<number>(wanted - left.length - right.length).fill(0);
  const words = [...left, ...middle, ...right].slice(0, wanted);
  return [...words.flatMap((w) => [w >> 8, w & 0xff]), ...tail];
}

/** The IPv4 address an IPv6 address stands for (IPv4-mapped ::ffff:0:0/96, NAT64 64:ff9b::/96). */
function embeddedIpv4(address: string): string | null {
  const b = ipv6Bytes(address);
  const zeros = (from: number, to: number) => b.slice(from, to).every((x) => x === 0);
  const mapped = zeros(0, 10) && b[10] === 0xff && b[11] === 0xff;
  const nat64 = b[0] === 0 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zeros(4, 12);
  return mapped || nat64 ? b.slice(12).join('.') : null;
}

/** The IPv4 address in an ISATAP interface id (`0:5efe` or `200:5efe`, then the address), if any. */
function isatapIpv4(address: string): string | null {
  const b = ipv6Bytes(address);
  const isatap = (b[8] & ~0x02) === 0 && b[9] === 0 && b[10] === 0x5e && b[11] === 0xfe;
  return isatap ? b.slice(12).join('.') : null;
}

/** The IPv4 address an IPv6 literal stands for (mapped, NAT64), else null. */
export function ipv4InIpv6(address: string): string | null {
  return isIP(address) === 6 ? embeddedIpv4(address) : null;
}

/** Exported for its unit test. */
export const embeddedIpv4ForTest = ipv4InIpv6;

export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return !refused.check(address, 'ipv4');
  if (family !== 6) return false;
  const v4 = embeddedIpv4(address);
  if (v4 !== null) return !refused.check(v4, 'ipv4');
  if (refused.check(address.split('%')[0], 'ipv6')) return false;
  const isatap = isatapIpv4(address);
  return isatap === null || !refused.check(isatap, 'ipv4');
}

/** A URL's hostname without the brackets of an IPv6 literal. */
export function bareHost(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}
