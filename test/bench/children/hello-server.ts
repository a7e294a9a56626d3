// The ceiling every server row is compared with: the smallest possible node:http server, in its own
// process (like the Latchkey servers), answering a fixed body. Reports its URL to the driver over IPC.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { reportReady, serveDriverMessages } from './ipc.js';

const body = Buffer.from('hello');
const server = createServer((_request, response) => {
  response.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
  response.end(body);
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  reportReady(`http://127.0.0.1:${port}`);
});
serveDriverMessages(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
});
