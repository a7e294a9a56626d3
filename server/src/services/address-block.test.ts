import { describe, expect, it } from 'vitest';
import { addressBlock } from './address-block.js';

describe('addressBlock', () => {
  it('keeps IPv4 addresses whole', () => {
    expect(addressBlock('203.0.113.9')).toBe('203.0.113.9');
  });

  it('folds IPv4-mapped IPv6 to the IPv4 address', () => {
    expect(addressBlock('::ffff:203.0.113.9')).toBe('203.0.113.9');
    expect(addressBlock('::ffff:cb00:7109')).toBe('203.0.113.9');
  });

  it('counts IPv6 by its /64, however the address is written', () => {
    const block = '2001:db8:1:2::/64';
    expect(addressBlock('2001:db8:1:2::1')).toBe(block);
    expect(addressBlock('2001:0DB8:0001:0002:ffff:ffff:ffff:ffff')).toBe(block);
    expect(addressBlock('2001:db8:1:2:a:b:c:d%eth0')).toBe(block);
    expect(addressBlock('2001:db8:1:3::1')).not.toBe(block);
    expect(addressBlock('::1')).toBe('0:0:0:0::/64');
    expect(addressBlock('fe80::1:2:3:4')).toBe('fe80:0:0:0::/64');
  });

  it('never turns a non-address into something that looks like one', () => {
    expect(addressBlock('not-an-ip:consecutive:x')).toBe('other:not-an-ip:consecutive:x');
  });
});
