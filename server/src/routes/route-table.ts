import { ROUTES } from '@latchkey/shared';

/**
 * The WebAuthn ceremony endpoints: the page's script posts JSON to them and reads JSON back, so their
 * refusals are JSON too (`{fail:{errors}}`, DESIGN.md section 2), like every other answer of theirs in
 * webauthn.ts. Which methods they take is not listed here: that comes from the routers, as for every path.
 */
const JSON_ENDPOINTS: ReadonlySet<string> = new Set([
  ROUTES.webauthnAuthenticateOptions,
  ROUTES.webauthnAuthenticateValidate,
  ROUTES.webauthnProvisionOptions,
  ROUTES.webauthnProvisionValidate,
]);

/** What one path answers. */
export interface PathMethods {
  /** The path as its route was first registered (e.g. `/account/login/`): links point here, never at the request's own spelling. */
  readonly path: string;
  /** Upper case, GET, HEAD, POST first, then the rest alphabetically; HEAD wherever GET is (the router answers it). */
  readonly methods: readonly string[];
  /** Some route here is `.all()`: every method is answered, so none is ever refused. */
  readonly anyMethod: boolean;
  /** A JSON endpoint ({@link JSON_ENDPOINTS}): its errors are JSON unless the client prefers HTML. */
  readonly json: boolean;
}

/** One entry of `Router#listRoutes()` (the router package ≥ 2.3, Express 5's router). */
interface ListedRoute {
  path: string | RegExp;
  methods?: string[] | undefined;
  router?: unknown;
}

interface ListableRouter {
  listRoutes(): ListedRoute[];
  caseSensitive?: boolean | undefined;
  strict?: boolean | undefined;
}

/** path-to-regexp 8 syntax (parameters, wildcards, optional groups, escapes): such a path is a pattern, not one address. */
const PATTERN_CHARACTERS = /[:*?+()[\]{}!\\]/;
const METHOD_ORDER = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];

/** The routers' own matching options for a group of paths (Express and `Router()` default to neither). */
interface MatchGroup {
  caseSensitive: boolean;
  strict: boolean;
  byKey: Map<string, { path: string; methods: Set<string>; anyMethod: boolean }>;
}

/**
 * Which methods each path of the app answers, read from the routers themselves (`listRoutes()`, the
 * router package's documented listing) once every route is mounted — so the 405 answers and their
 * `Allow` header (RFC 9110 §15.5.6) cannot drift from the routes: there is no second list to maintain.
 *
 * A path is matched as the router matches a plain string route: not case sensitive, with or without one
 * trailing slash (unless the router was made `caseSensitive` / `strict`), on the undecoded path. Routes
 * with parameters, wildcards or regular expressions are refused when the table is built (the app does not
 * start): matching them needs path-to-regexp itself, and a table that silently missed them would answer
 * 404 to requests such a route serves.
 */
export class RouteTable {
  #groups: MatchGroup[] | null = null;
  #entries = new Map<string, PathMethods>();

  /** Read every route of `router` (the app's: `app.router`) and of the routers mounted in it. Call once, after the last route. */
  learn(router: unknown): void {
    const groups: MatchGroup[] = [];
    collect(listable(router), '', groups);
    this.#groups = groups;
    this.#entries = new Map();
  }

  /** What `pathname` (the request's path, as `req.path`) answers, or null when no route has this path. */
  lookup(pathname: string): PathMethods | null {
    if (!this.#groups) throw new Error('RouteTable.lookup() before learn(): call learn(app.router) once every route is mounted.');
    for (const group of this.#groups) {
      const found = find(group, pathname);
      if (found) return this.#entry(found);
    }
    return null;
  }

  /** Every path and its methods, in registration order (for tests and the docs). */
  all(): PathMethods[] {
    if (!this.#groups) throw new Error('RouteTable.all() before learn().');
    return this.#groups.flatMap((group) => [...group.byKey.values()].map((found) => this.#entry(found)));
  }

  #entry(found: { path: string; methods: Set<string>; anyMethod: boolean }): PathMethods {
    let entry = this.#entries.get(found.path);
    if (!entry) {
      entry = { path: found.path, methods: orderMethods(found.methods), anyMethod: found.anyMethod, json: JSON_ENDPOINTS.has(found.path) };
      this.#entries.set(found.path, entry);
    }
    return entry;
  }
}

/** Does `entry` answer `method`? */
export function answers(entry: PathMethods, method: string): boolean {
  return entry.anyMethod || entry.methods.includes(method);
}

function listable(router: unknown): ListableRouter {
  if (typeof (router as { listRoutes?: unknown } | null)?.listRoutes !== 'function') {
    throw new Error('RouteTable needs Router#listRoutes() (the router package 2.3 or later, as Express 5.3 installs).');
  }
  return router as ListableRouter;
}

function collect(router: ListableRouter, prefix: string, groups: MatchGroup[]): void {
  for (const route of router.listRoutes()) {
    if (typeof route.path !== 'string' || PATTERN_CHARACTERS.test(route.path)) {
      throw new Error(
        `RouteTable matches plain paths only, and ${String(route.path)} is a pattern: teach routes/route-table.ts to match it ` +
          '(with path-to-regexp, as the router does) so that its wrong methods get 405 and its right ones still reach it.',
      );
    }
    if (route.router !== undefined) {
      // A mounted router matches its path as a prefix ("/" mounts add nothing).
      collect(listable(route.router), join(prefix, route.path), groups);
      continue;
    }
    const group = groupFor(groups, router.caseSensitive === true, router.strict === true);
    const path = join(prefix, route.path);
    const key = keyOf(group, path);
    let found = group.byKey.get(key);
    if (!found) {
      found = { path, methods: new Set(), anyMethod: false };
      group.byKey.set(key, found);
    }
    for (const method of route.methods ?? []) {
      if (method === '*') found.anyMethod = true;
      else found.methods.add(method.toUpperCase());
    }
  }
}

function groupFor(groups: MatchGroup[], caseSensitive: boolean, strict: boolean): MatchGroup {
  let group = groups.find((candidate) => candidate.caseSensitive === caseSensitive && candidate.strict === strict);
  if (!group) {
    group = { caseSensitive, strict, byKey: new Map() };
    groups.push(group);
  }
  return group;
}

function join(prefix: string, path: string): string {
  if (prefix === '') return path;
  const base = prefix.replace(/\/+$/, '');
  return path === '/' ? base || '/' : `${base}${path}`;
}

/**
 * The router's rule for a string route (router/lib/layer.js `loosen` + path-to-regexp `trailing`): trailing
 * slashes of the route are dropped and the request may end in at most one; not case sensitive by default.
 */
function keyOf(group: MatchGroup, path: string): string {
  const loose = group.strict || path === '/' ? path : path.replace(/\/+$/, '') || '/';
  return group.caseSensitive ? loose : loose.toLowerCase();
}

function find(group: MatchGroup, pathname: string) {
  const exact = group.caseSensitive ? pathname : pathname.toLowerCase();
  const found = group.byKey.get(exact);
  if (found || group.strict || !exact.endsWith('/') || exact === '/') return found ?? null;
  return group.byKey.get(exact.slice(0, -1)) ?? null;
}

function orderMethods(methods: Set<string>): string[] {
  const rank = (method: string) => {
    const index = METHOD_ORDER.indexOf(method);
    return index === -1 ? METHOD_ORDER.length : index;
  };
  return [...methods].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}
