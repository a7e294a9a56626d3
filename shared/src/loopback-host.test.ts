import { describe, expect, it } from 'vitest';
import { isLoopbackHost } from './loopback-host.js';

describe('isLoopbackHost', () => {
  it('accepts the loopback names as URL.hostname gives them', () => {
    for (const address of ['http://localhost:8080/', 'http://127.0.0.1/', 'http://[::1]:3000/', 'http://LOCALHOST/']) {
      expect(isLoopbackHost(new URL(address).hostname), address).toBe(true);
    }
  });

  it('refuses names that only look local or reach the network', () => {
    for (const address of ['http://localhost.example.com/', 'http://127.0.0.1.nip.io/', 'http://10.0.0.1/', 'http://[::2]/', 'http://example.com/']) {
      expect(isLoopbackHost(new URL(address).hostname), address).toBe(false);
    }
    // Not a URL's hostname: an unbracketed IPv6 address or a padded name is never matched.
    expect(isLoopbackHost('::1')).toBe(false);
    expect(isLoopbackHost(' localhost')).toBe(false);
  });
});
