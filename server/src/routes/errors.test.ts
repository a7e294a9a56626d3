import express from 'express';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// Every view fails to render, as when the views' JSX runtime is missing ("React is not defined").
vi.mock('../views/message-page.js', () => ({
  MessagePage: () => {
    throw new ReferenceError('React is not defined');
  },
}));

const { errorHandler, notFound } = await import('./errors.js');

describe('error pages when rendering itself fails', () => {
  let base = '';
  let close: () => void = () => {};
  beforeAll(async () => {
    const app = express();
    app.get('/boom', () => {
      throw new Error('secret internal detail');
    });
    app.use(notFound);
    app.use(errorHandler);
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => server.close();
    vi.spyOn(console, 'error').mockImplementation(() => {});
  });
  afterAll(() => {
    close();
    vi.restoreAllMocks();
  });

  it('answers a plain 500 without a stack trace', async () => {
    const response = await fetch(`${base}/boom`, { headers: { accept: 'text/html' } });
    const body = await response.text();
    expect(response.status).toBe(500);
    expect(body).toContain('Something went wrong on our side');
    expect(body).not.toMatch(/\n\s+at |React is not defined|secret internal detail|\.ts:\d/);
  });

  it('answers a plain 404 without a stack trace', async () => {
    const response = await fetch(`${base}/nowhere`, { headers: { accept: 'text/html' } });
    const body = await response.text();
    expect(response.status).toBe(404);
    expect(body).toContain('There is no page at this address.');
    expect(body).not.toMatch(/\n\s+at |React is not defined|\.ts:\d/);
  });
});
