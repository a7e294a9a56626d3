import { FIELDS, ROUTES } from '@latchkey/shared';
import { describe, expect, it } from 'vitest';
import { testConfig } from './config.js';
import { createTestDatabaseUrl } from './db/test-database.js';
import { forwardedForWithoutPorts, withoutPort } from './forwarded-for.js';
import { startServer } from './main.js';
import { ClientAt } from './testing/browser.js';

describe('withoutPort (one X-Forwarded-For entry)', () => {
  it('drops the port of ip:port and [v6]:port, and the brackets of [v6]', () => {
    expect(withoutPort('203.0.113.7:5123')).toBe('203.0.113.7');
    expect(withoutPort(' 203.0.113.7:5123 ')).toBe('203.0.113.7');
    expect(withoutPort('[2001:db8::7]:443')).toBe('2001:db8::7');
    expect(withoutPort('[2001:db8::7]')).toBe('2001:db8::7');
  });

  it('leaves everything else as it is: plain addresses, bare IPv6 (a port there is ambiguous), names, nonsense', () => {
    for (const entry of ['203.0.113.7', '2001:db8::7', '2001:db8::7:5123', 'unknown', 'proxy.internal:80', '999.1.1.1:80', '[not-v6]:80', '203.0.113.7:']) {
      expect(withoutPort(entry), entry).toBe(entry);
    }
  });
});

describe('X-Forwarded-For with ports behind a trusted proxy (LATCHKEY_TRUST_PROXY=1)', () => {
  it('records the client address, not the proxy (socket) address, for ip:port and [v6]:port', async () => {
    const database = await createTestDatabaseUrl('sqlite');
    const server = await startServer(testConfig({ databaseUrl: database.databaseUrl, trustProxy: 1 }));
    try {
      const user = await server.services.accounts.register({ username: 'forwarded', email: 'f@example.org', password: 'correct horse battery staple' });
      for (const [forwarded, recorded] of [
        ['203.0.113.7:5123', '203.0.113.7'],
        ['198.51.100.1, [2001:db8::7]:443', '2001:db8::7'],
      ] as const) {
        const client = new ClientAt(server.url, forwarded);
        await client.get(ROUTES.login);
        expect((await client.post(ROUTES.login, { [FIELDS.username]: user.username, [FIELDS.password]: 'not the password' })).status).toBe(401);
        // Before: 127.0.0.1, the proxy's (here the socket's) address, for every client behind such a proxy.
        expect((await server.services.events.list(user.id, { limit: 1 }))[0]?.ip, forwarded).toBe(recorded);
      }
    } finally {
      await server.close();
      await database.drop();
    }
  });

  it('warns once when the trusted entry is still no IP address', () => {
    const lines: string[] = [];
    const middleware = forwardedForWithoutPorts((line) => lines.push(line));
    const request = (forwarded: string, ip: string) => ({ headers: { 'x-forwarded-for': forwarded }, ip }) as never;
    let passed = 0;
    middleware(request('unknown', 'unknown'), {} as never, () => passed++);
    middleware(request('garbage\n', 'garbage\n'), {} as never, () => passed++);
    middleware(request('203.0.113.7', '203.0.113.7'), {} as never, () => passed++);
    expect(passed).toBe(3);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^Warning: the X-Forwarded-For entry the trusted proxy gave, "unknown", is no IP address/);
  });
});
