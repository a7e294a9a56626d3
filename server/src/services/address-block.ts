import { isIP } from 'node:net';

/**
 * The unit a per-address limit counts: an IPv4 address as it is, an IPv6 address by its /64.
 *
 * One IPv6 subscriber is normally given a whole /64 (RFC 6177, RFC 7421), so counting single IPv6
 * addresses would let one client rotate through 2^64 of them and never meet a per-address limit
 * (issue 14 point 3: 60 tries from one /64, no 429). IPv4-mapped IPv6 (`::ffff:192.0.2.1`) is the
 * IPv4 address. Anything that is not an IP address (callers should never pass one: see
 * routes/http.ts `requestOrigin`) is kept whole under an `other:` prefix so it can never collide with
 * a real address block.
 */
export function addressBlock(address: string): string {
  const zoneless = address.split('%')[0] ?? address;
  const version = isIP(zoneless);
  if (version === 4) return zoneless;
  if (version !== 6) return `other:${address}`;
  const groups = expandIpv6(zoneless);
  if (groups.slice(0, 6).every((g, i) => (i < 5 ? g === 0 : g === 0xffff))) {
    return [groups[6]! >> 8, groups[6]! & 0xff, groups[7]! >> 8, groups[7]! & 0xff].join('.');
  }
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address (`::` and a trailing dotted IPv4 part expanded). */
function expandIpv6(address: string): number[] {
  let text = address.toLowerCase();
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((group) => parseInt(group, 16)));
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  return [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
}
