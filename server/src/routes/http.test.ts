import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { Request } from 'express';
import { describe, expect, it } from 'vitest';
import { FIELDS, ROUTES } from '@latchkey/shared';
import type { RunningServer } from '../main.js';
import { TestBrowser } from '../testing/browser.js';
import { useTestServer } from '../testing/http-harness.js';
import { formSchema, parseForm, streamText, textField } from './http.js';

const FORM = formSchema({ [FIELDS.username]: textField('your username', 50) });

describe('parseForm', () => {
  it('reads a body that is not a set of fields (a JSON array, a string) as an empty form, never as Zod’s own words', () => {
    for (const body of [[], ['x'], [{ username: 'x' }], 'username=x', 7, null, undefined]) {
      const result = parseForm({ body } as Request, FORM);
      expect(result, JSON.stringify(body)).toEqual({ ok: false, fieldErrors: { [FIELDS.username]: 'Enter your username.' } });
    }
    expect(parseForm({ body: { [FIELDS.username]: 'alice' } } as Request, FORM)).toEqual({ ok: true, data: { [FIELDS.username]: 'alice' } });
  });
});

describe('a JSON array posted to a form', () => {
  let server: RunningServer;
  useTestServer('sqlite', (started) => {
    server = started;
  });

  it('gets the form’s own messages on the login page, not "expected object, received array"', async () => {
    const b = new TestBrowser(server.url);
    await b.get(ROUTES.login);
    const response = await b.raw('POST', ROUTES.login, '[["username","alice"]]', { 'content-type': 'application/json', 'x-csrf-token': b.csrfToken });
    expect(response.status).toBe(400);
    expect(response.text).toContain('Enter your username.');
    expect(response.text).not.toMatch(/expected object|received array|Invalid input/);
  });
});

describe('streamText', () => {
  /** One response, streamed by `pieces`, read by a plain client: the status, the body, and whether the connection broke. */
  async function fetchStreamed(pieces: () => AsyncGenerator<string>) {
    const app = express();
    app.get('/', (_req, res, next) => {
      res.status(200).type('application/json');
      streamText(res, pieces()).catch(next);
    });
    const listener = app.listen(0);
    await once(listener, 'listening');
    const { port } = listener.address() as AddressInfo;
    try {
      // The connection may break before the status line arrives (fetch rejects) or within the body (text() does).
      const response = await fetch(`http://127.0.0.1:${port}/`).catch(() => null);
      if (!response) return { status: null, body: '', broken: true };
      let body = '';
      let broken = false;
      try {
        body = await response.text();
      } catch {
        broken = true;
      }
      return { status: response.status, body, broken };
    } finally {
      listener.close();
    }
  }

  it('writes every piece, in order, and ends the body', async () => {
    const result = await fetchStreamed(async function* () {
      for (let i = 0; i < 1000; i++) yield `${'x'.repeat(1000)}${i},`;
    });
    expect(result).toMatchObject({ status: 200, broken: false });
    expect(result.body.split(',').filter(Boolean)).toHaveLength(1000);
    expect(result.body.endsWith('999,')).toBe(true);
  });

  it('cuts the connection when a piece fails after the body began: never a body that looks whole, never an error page in it', async () => {
    const result = await fetchStreamed(async function* () {
      yield '{"securityHistory": [';
      throw new Error('the database went away');
    });
    expect(result.broken).toBe(true);
    expect(result.body).not.toContain('database went away');
  });
});
