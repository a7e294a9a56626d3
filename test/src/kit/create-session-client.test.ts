import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSessionClient } from './create-session-client.js';

// A stand-in server with just enough behaviour to exercise the client: a form page with a token bound
// to a session cookie, a form post that checks it and redirects, a JSON endpoint checking the header.
let server: Server;
let baseUrl: string;
const seen: Array<{ method: string; url: string; cookie: string | undefined; body: string; headers: Record<string, unknown> }> = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      seen.push({ method: request.method ?? '', url: request.url ?? '', cookie: request.headers.cookie, body, headers: request.headers });
      const url = new URL(request.url ?? '/', 'http://x');
      if (url.pathname === '/form') {
        response.setHeader('set-cookie', ['session=s1; Path=/; HttpOnly; SameSite=Lax', 'theme=dark']);
        response.setHeader('content-type', 'text/html');
        response.end(`<form method="post"><input type="hidden" value="tok&amp;1" name="csrf_token"><input name="x"></form>`);
      } else if (request.method === 'POST' && url.pathname === '/submit') {
        const fields = new URLSearchParams(body);
        if (request.headers.cookie?.includes('session=s1') && fields.get('csrf_token') === 'tok&1') {
          response.writeHead(303, { location: '/done', 'set-cookie': 'theme=; Max-Age=0' }).end();
        } else response.writeHead(400).end('bad csrf');
      } else if (url.pathname === '/done') {
        response.setHeader('content-type', 'text/html');
        response.end('<meta name="csrf_token" content="tok2"><p>done</p>');
      } else if (url.pathname === '/api') {
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify({ header: request.headers['x-csrf-token'] ?? null, body: JSON.parse(body || 'null') }));
      } else if (url.pathname === '/locked') {
        response.setHeader('content-type', 'text/html');
        response.end(
          '<h1>Two-factor authentication</h1><div class="notice" role="alert" tabindex="-1"><p>Too many failed attempts. Try again in 15 minutes &amp; more.</p></div>',
        );
      } else if (url.pathname === '/gone') {
        response.writeHead(400, { 'content-type': 'text/html' }).end('<main><h1>Log in again</h1></main>');
      } else if (url.pathname === '/loop') {
        response.writeHead(302, { location: '/loop' }).end();
      } else response.writeHead(404).end('not found');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('createSessionClient', () => {
  it('keeps cookies, finds the csrf_token in any attribute order, and does not follow redirects', async () => {
    const client = createSessionClient(baseUrl);
    const page = await client.get('/form');
    expect(page.status).toBe(200);
    expect(page.csrfToken).toBe('tok&1');
    expect(client.cookies.get('session')).toBe('s1');
    expect(client.cookies.get('theme')).toBe('dark');

    const posted = await client.post('/submit', { x: 'y' });
    expect(posted.status).toBe(303);
    expect(posted.location).toBe(`${baseUrl}/done`);
    expect(client.cookies.has('theme')).toBe(false); // Max-Age=0 deletes it
    const last = seen.at(-1)!;
    expect(last.headers.origin).toBe(baseUrl);
    expect(new URLSearchParams(last.body).get('x')).toBe('y');

    const done = await client.follow(posted);
    expect(done.url).toBe(`${baseUrl}/done`);
    expect(client.csrfToken).toBe('tok2'); // from the meta tag
  });

  it('sends the given User-Agent on every request', async () => {
    const userAgent = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36';
    const client = createSessionClient(baseUrl, { userAgent });
    await client.get('/form');
    await client.post('/submit', { x: 'y' });
    expect(seen.slice(-2).map((request) => request.headers['user-agent'])).toEqual([userAgent, userAgent]);
    await createSessionClient(baseUrl).get('/form');
    expect(seen.at(-1)!.headers['user-agent']).not.toBe(userAgent);
  });

  it('submit() fetches the form page first and posts its token', async () => {
    const client = createSessionClient(baseUrl);
    const posted = await client.submit('/form', { x: '1' }, { action: '/submit' });
    expect(posted.status).toBe(303);
    await expect(client.submit('/nowhere', {})).rejects.toThrow(/answered 404/);
    const posts = seen.filter((request) => request.method === 'POST').length;
    await expect(client.submit('/api', {})).rejects.toThrow(/no csrf_token/);
    expect(seen.filter((request) => request.method === 'POST').length).toBe(posts); // nothing posted without a token
  });

  it('submit() says what a page without the form says, so a refusal is not a mystery', async () => {
    const client = createSessionClient(baseUrl);
    await expect(client.submit('/locked', {})).rejects.toThrow(
      /no csrf_token in the page at .*\/locked \(the page says: "Too many failed attempts\. Try again in 15 minutes & more\."\)/,
    );
    await expect(client.submit('/gone', {})).rejects.toThrow(/answered 400, not a form page \(the page says: "Log in again"\)/);
  });

  it('sends JSON with the X-CSRF-Token header and explains non-JSON answers', async () => {
    const client = createSessionClient(baseUrl);
    await client.get('/form');
    const answer = await client.postJson('/api', { a: 1 });
    expect(answer.json()).toEqual({ header: 'tok&1', body: { a: 1 } });
    const explicit = await client.postJson('/api', null, { csrfToken: 'other' });
    expect(explicit.json<{ header: string }>().header).toBe('other');
    const notJson = await client.get('/missing');
    expect(() => notJson.json()).toThrow(/expected JSON .* \(status 404\), got: not found/);
  });

  it('stops following a redirect loop after 10 hops and refuses a non-http base', async () => {
    const client = createSessionClient(baseUrl);
    const final = await client.follow(await client.get('/loop'));
    expect(final.status).toBe(302);
    expect(seen.filter((request) => request.url === '/loop').length).toBe(11);
    expect(() => createSessionClient('file:///etc/passwd')).toThrow(/http/);
  });
});
