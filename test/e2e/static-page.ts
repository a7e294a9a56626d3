import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A page of its own on 127.0.0.1 (a port the system picks) for a journey that needs a site with no index on it — a
 * self-hosted index an account fills on, a page under test. Every request gets `html`. Close `server` after the tests.
 */
export async function startStaticPage(html: string): Promise<{ server: Server; origin: string }> {
  const server = createServer((_request, response) => {
    response.setHeader('content-type', 'text/html; charset=utf-8');
    response.end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}
