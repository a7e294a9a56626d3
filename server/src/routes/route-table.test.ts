import express, { type RequestHandler } from 'express';
import { ROUTES } from '@latchkey/shared';
import { describe, expect, it } from 'vitest';
import { createApp } from '../app.js';
import { testConfig } from '../config.js';
import { createTestDatabaseUrl } from '../db/test-database.js';
import { PASSWORD_ROUTES } from '../views/password-routes.js';
import { answers, RouteTable } from './route-table.js';

const ok: RequestHandler = (_req, res) => {
  res.end();
};

function tableOf(router: express.Router): RouteTable {
  const app = express();
  app.use(router);
  const table = new RouteTable();
  table.learn(app.router);
  return table;
}

describe('RouteTable', () => {
  it('merges the routes of one path across routers, with HEAD wherever GET is, in a fixed order', () => {
    const pages = express.Router();
    pages.post('/account/login/', ok);
    const forms = express.Router();
    forms.get('/account/login/', ok);
    forms.post('/manage/account/sessions/revoke', ok);
    const app = express();
    app.use(pages);
    app.use(forms);
    const table = new RouteTable();
    table.learn(app.router);
    expect(table.lookup('/account/login/')).toMatchObject({ path: '/account/login/', methods: ['GET', 'HEAD', 'POST'], anyMethod: false });
    expect(table.lookup('/manage/account/sessions/revoke')?.methods).toEqual(['POST']);
    expect(table.lookup('/nowhere')).toBeNull();
  });

  it('matches a path as the router does: any case, at most one trailing slash either way, undecoded', () => {
    const router = express.Router();
    router.get('/account/login/', ok);
    router.post('/manage/account/email', ok);
    router.get('/', ok);
    const table = tableOf(router);
    for (const path of ['/account/login/', '/account/login', '/ACCOUNT/Login/']) expect(table.lookup(path)?.path, path).toBe('/account/login/');
    for (const path of ['/manage/account/email', '/manage/account/email/']) expect(table.lookup(path)?.path, path).toBe('/manage/account/email');
    for (const path of ['/account/login//', '/account/%6Cogin/', '/account/login/x', '/manage/account/email//']) expect(table.lookup(path), path).toBeNull();
    expect(table.lookup('/')?.path).toBe('/');
  });

  it('agrees with the router on which requests reach a route', async () => {
    const router = express.Router();
    router.get('/account/login/', ok);
    router.get('/', ok);
    const app = express();
    app.use(router);
    const table = new RouteTable();
    table.learn(app.router);
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const base = `http://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}`;
      for (const path of ['/account/login/', '/account/login', '/ACCOUNT/LOGIN/', '/account/login//', '/account/%6Cogin/', '/account/login/x', '/', '/x']) {
        const routed = (await fetch(`${base}${path}`)).status === 200;
        expect(table.lookup(path) !== null, path).toBe(routed);
      }
    } finally {
      server.close();
    }
  });

  it('follows a router mounted under a path, and an `.all()` route answers every method', () => {
    const inner = express.Router();
    inner.post('/', ok);
    inner.all('/any', ok);
    const app = express();
    app.use('/mounted/', inner);
    const table = new RouteTable();
    table.learn(app.router);
    expect(table.lookup('/mounted')?.methods).toEqual(['POST']);
    const any = table.lookup('/mounted/any/');
    expect(any?.anyMethod).toBe(true);
    expect(answers(any!, 'PROPFIND')).toBe(true);
    expect(answers(table.lookup('/mounted')!, 'GET')).toBe(false);
  });

  it('honours a case-sensitive, strict router', () => {
    const router = express.Router({ caseSensitive: true, strict: true });
    router.get('/Page/', ok);
    const table = tableOf(router);
    expect(table.lookup('/Page/')?.methods).toEqual(['GET', 'HEAD']);
    expect(table.lookup('/page/')).toBeNull();
    expect(table.lookup('/Page')).toBeNull();
  });

  it('refuses a pattern route instead of silently missing it (its right methods would then get 404)', () => {
    for (const path of ['/user/:id', '/files/*rest', '/a{/b}']) {
      const router = express.Router();
      router.get(path, ok);
      expect(() => tableOf(router), path).toThrow(/is a pattern: teach routes\/route-table\.ts/);
    }
    const regexp = express.Router();
    regexp.get(/^\/x$/, ok);
    expect(() => tableOf(regexp)).toThrow(/is a pattern/);
  });

  it('must be learned before it is asked', () => {
    expect(() => new RouteTable().lookup('/')).toThrow(/before learn/);
  });
});

describe('the app’s route table', () => {
  it('has every path of the contract and marks exactly the WebAuthn ceremony endpoints as JSON', async () => {
    const database = await createTestDatabaseUrl('sqlite');
    const latchkey = await createApp(testConfig({ databaseUrl: database.databaseUrl }));
    try {
      const table = new RouteTable();
      table.learn(latchkey.app.router);
      for (const path of [...Object.values(ROUTES), ...Object.values(PASSWORD_ROUTES)]) expect(table.lookup(path), path).not.toBeNull();
      expect(
        table
          .all()
          .filter((entry) => entry.json)
          .map((entry) => entry.path)
          .sort(),
      ).toEqual(
        [ROUTES.webauthnAuthenticateOptions, ROUTES.webauthnAuthenticateValidate, ROUTES.webauthnProvisionOptions, ROUTES.webauthnProvisionValidate].sort(),
      );
      // Each path once, with what its routers answer.
      expect(new Set(table.all().map((entry) => entry.path)).size).toBe(table.all().length);
      expect(table.lookup(ROUTES.logout)?.methods).toEqual(['GET', 'HEAD', 'POST']);
      expect(table.lookup(ROUTES.webauthnAuthenticateValidate)?.methods).toEqual(['POST']);
      expect(table.lookup(ROUTES.manageAccount)?.methods).toEqual(['GET', 'HEAD']);
    } finally {
      await latchkey.close();
      await database.drop();
    }
  });
});
