import type { Request } from 'express';
import { describe, expect, it } from 'vitest';
import { FIELDS, ROUTES } from '@latchkey/shared';
import type { RunningServer } from '../main.js';
import { TestBrowser } from '../testing/browser.js';
import { useTestServer } from '../testing/http-harness.js';
import { formSchema, parseForm, textField } from './http.js';

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
