import { describe, expect, it } from 'vitest';
import { siteAccessPattern } from './site-access-pattern.js';

describe('siteAccessPattern', () => {
  it.each([
    ['http://127.0.0.1:43117', 'http://127.0.0.1/*'],
    ['http://localhost:8080', 'http://localhost/*'],
    ['https://latchkey.example.org', 'https://latchkey.example.org/*'],
    ['https://latchkey.example.org:8443', 'https://latchkey.example.org/*'],
    ['http://[::1]:3000', 'http://[::1]/*'],
    ['https://xn--bcher-kva.example', 'https://xn--bcher-kva.example/*'],
  ])('asks for %s as %s (no port: Firefox never matches a pattern with one)', (origin, pattern) => {
    expect(siteAccessPattern(origin)).toBe(pattern);
  });
});
