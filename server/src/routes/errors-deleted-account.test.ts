import express from 'express';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { NO_ORIGIN } from '../services/events.js';
import { createServiceHarness, DIALECTS, type ServiceHarness } from '../testing/service-harness.js';
import { errorHandler } from './errors.js';

// A request for an account that its owner deletes meanwhile (a login, a security change, a second delete
// with a typo) fails its write on a foreign key: QA saw those as 500s on both databases. The drivers' real
// errors, raised by the services as those requests raise them, must be answered 409 with a message.
describe.each(DIALECTS)('a write for an account deleted meanwhile, on %s', (dialect) => {
  let h: ServiceHarness;
  let base = '';
  let close: () => void = () => {};
  const gone = '00000000-0000-4000-8000-000000000000';

  beforeAll(async () => {
    h = await createServiceHarness(dialect);
    const app = express();
    app.get('/session', async () => {
      await h.services.sessions.create(gone);
    });
    app.get('/event', async () => {
      await h.services.events.record({ userId: gone, tag: 'account:reauthenticate:failure', origin: NO_ORIGIN });
    });
    app.use(errorHandler);
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => server.close();
  });
  afterAll(async () => {
    close();
    await h?.close();
  });

  it.each(['/session', '/event'])('%s: 409 with a message, as a page and as JSON, and nothing logged as a server fault', async (path) => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const page = await fetch(`${base}${path}`, { headers: { accept: 'text/html' } });
      expect(page.status).toBe(409);
      expect(await page.text()).toContain('This account was deleted while your request was being handled. Nothing was changed.');
      const json = await fetch(`${base}${path}`, { headers: { accept: 'application/json' } });
      expect(json.status).toBe(409);
      expect(await json.json()).toEqual({ fail: { errors: ['This account was deleted while your request was being handled. Nothing was changed.'] } });
      expect(logged).not.toHaveBeenCalled();
    } finally {
      logged.mockRestore();
    }
  });
});
