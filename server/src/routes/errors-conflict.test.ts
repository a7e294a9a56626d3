import express from 'express';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { errorHandler } from './errors.js';

// A deadlock or serialization failure that escapes inTransaction's retries (or hits one statement outside a
// transaction) used to be answered 500 "Something went wrong on our side": nothing is broken, and nothing of
// the request was saved, so it is answered 409 with a message saying so, as a page and as JSON.
describe('a PostgreSQL deadlock or serialization failure reaching the error handler', () => {
  let base = '';
  let close: () => void = () => {};
  const message =
    'Another change to this account was being made at the same moment, and your request could not be completed. Nothing of it was saved. Please try again.';

  beforeAll(async () => {
    const app = express();
    app.post('/account/verify-email/:token', () => {
      throw Object.assign(new Error('deadlock detected: Process 1 waits for ShareLock on transaction 2; secret-detail'), { code: '40P01' });
    });
    app.post('/serialization', () => {
      throw Object.assign(new Error('could not serialize access'), { code: '40001' });
    });
    app.use(errorHandler);
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => server.close();
  });
  afterAll(() => close());

  it.each(['/account/verify-email/secret-token-value', '/serialization'])(
    '%s: 409 with a message, page and JSON, logged as a warning without detail',
    async (path) => {
      const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
      const warnings = vi.spyOn(console, 'warn').mockImplementation(() => {});
      try {
        const page = await fetch(`${base}${path}`, { method: 'POST', headers: { accept: 'text/html' } });
        expect(page.status).toBe(409);
        expect(await page.text()).toContain(message);
        const json = await fetch(`${base}${path}`, { method: 'POST', headers: { accept: 'application/json' } });
        expect(json.status).toBe(409);
        expect(await json.json()).toEqual({ fail: { errors: [message] } });
        expect(errors).not.toHaveBeenCalled();
        expect(warnings).toHaveBeenCalledTimes(2);
        const logged = warnings.mock.calls.map((call) => String(call[0])).join('\n');
        expect(logged).toMatch(/PostgreSQL 40(P01|001)/);
        // Neither the error's detail nor a token in the path reaches the log.
        expect(logged).not.toContain('secret');
      } finally {
        errors.mockRestore();
        warnings.mockRestore();
      }
    },
  );
});
