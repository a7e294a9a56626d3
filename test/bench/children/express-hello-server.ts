// The framework's own ceiling: an Express 5 app (the server's framework) answering a fixed body from one
// route, nothing else. Between this and the bare node:http row is what Express costs by itself; between
// this and the Latchkey rows is what the login logic, the database and the page cost.
import type { AddressInfo } from 'node:net';
import express from 'express';
import { reportReady, serveDriverMessages } from './ipc.js';

const app = express();
app.disable('x-powered-by');
app.get('/', (_request, response) => {
  response.type('text/plain').send('hello');
});
const server = app.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  reportReady(`http://127.0.0.1:${port}`);
});
server.keepAliveTimeout = 60_000;
serveDriverMessages(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
});
