import { FIELDS } from '@latchkey/shared';

/** One answer from the server, body already read. */
export interface SessionResponse {
  status: number;
  /** The absolute URL that was requested. */
  url: string;
  headers: Headers;
  /** `Location` resolved against the request URL (for 3xx answers), else `null`. */
  location: string | null;
  body: string;
  /** The `csrf_token` found in the body (hidden input or meta tag), if any. */
  csrfToken: string | undefined;
  /** The body parsed as JSON; throws with the status and the start of the body when it is not JSON. */
  json<T = unknown>(): T;
}

export interface SessionClient {
  readonly baseUrl: string;
  /** Cookies currently held, by name (the client ignores Domain/Path: it talks to one server). */
  readonly cookies: ReadonlyMap<string, string>;
  /** The most recent `csrf_token` seen in a page; used by `post` and `postJson` unless given explicitly. */
  readonly csrfToken: string | undefined;
  /** GET a path (or absolute URL); never follows redirects. */
  get(path: string): Promise<SessionResponse>;
  /**
   * POST a form (`application/x-www-form-urlencoded`); adds `csrf_token` from the last page seen
   * unless `fields` has one. Never follows redirects — read `response.location`.
   */
  post(path: string, fields?: Record<string, string>): Promise<SessionResponse>;
  /** POST JSON with the `X-CSRF-Token` header (from the last page seen, or `options.csrfToken`). */
  postJson(path: string, body: unknown, options?: { csrfToken?: string }): Promise<SessionResponse>;
  /**
   * GET `path`, then POST `fields` to the same URL (or `options.action`) with that page's token —
   * what a person filling one form does.
   */
  submit(path: string, fields: Record<string, string>, options?: { action?: string }): Promise<SessionResponse>;
  /** Follows a chain of redirects with GETs, returning the final answer (at most 10 hops). */
  follow(response: SessionResponse): Promise<SessionResponse>;
}

export interface CreateSessionClientOptions {
  /**
   * The `User-Agent` every request sends, e.g. a browser's `navigator.userAgent` when the session is
   * handed to that browser afterwards. Default: Node's own (the account page then lists an "Unknown browser").
   */
  userAgent?: string;
}

/**
 * A tiny cookie-keeping HTTP client for tests that talk to the server without a browser: it keeps
 * the session cookie, remembers the last `csrf_token` it saw in a page and sends it back, and never
 * follows redirects on its own so tests can assert on `303` + `Location`.
 *
 * @example
 * ```ts
 * const client = createSessionClient(server.url);
 * const login = await client.submit('/account/login/', { username: 'alice', password: 'correct horse battery staple' });
 * // 303 to /account/two-factor/?token=…; submit() GETs that page for its csrf_token, then posts the code.
 * const twoFactor = await client.submit(login.location!, { totp_value: currentTotp(user.totpSecret!) });
 * expect(twoFactor.status).toBe(303);
 * expect((await client.follow(twoFactor)).url).toContain('/manage/account/');
 * ```
 */
export function createSessionClient(baseUrl: string, options: CreateSessionClientOptions = {}): SessionClient {
  const base = new URL(baseUrl);
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new TypeError(`createSessionClient: baseUrl must be http(s), got ${JSON.stringify(baseUrl)}`);
  }
  const cookies = new Map<string, string>();
  let lastCsrfToken: string | undefined;

  async function request(method: 'GET' | 'POST', path: string, body?: string, contentType?: string, extraHeaders?: Record<string, string>) {
    const url = new URL(path, base).toString();
    const headers: Record<string, string> = {
      accept: 'text/html,application/json',
      ...(options.userAgent === undefined ? {} : { 'user-agent': options.userAgent }),
      ...extraHeaders,
    };
    if (cookies.size > 0) headers.cookie = [...cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    if (contentType !== undefined) headers['content-type'] = contentType;
    // A browser sends Origin with every POST; so does this client, so a server (or proxy) that checks it sees what a browser sends.
    // (Latchkey itself relies on the CSRF token and SameSite cookies, not on Origin.)
    if (method === 'POST') headers.origin = base.origin;
    const response = await fetch(url, { method, headers, ...(body === undefined ? {} : { body }), redirect: 'manual' });
    for (const line of response.headers.getSetCookie()) storeCookie(cookies, line);
    const text = await response.text();
    const csrfToken = findCsrfToken(text);
    if (csrfToken !== undefined) lastCsrfToken = csrfToken;
    const location = response.headers.get('location');
    const result: SessionResponse = {
      status: response.status,
      url,
      headers: response.headers,
      location: location === null ? null : new URL(location, url).toString(),
      body: text,
      csrfToken,
      json<T>() {
        try {
          return JSON.parse(text) as T;
        } catch {
          throw new Error(`expected JSON from ${method} ${url} (status ${response.status}), got: ${text.slice(0, 200)}`);
        }
      },
    };
    return result;
  }

  const client: SessionClient = {
    baseUrl: base.toString(),
    cookies,
    get csrfToken() {
      return lastCsrfToken;
    },
    get: (path) => request('GET', path),
    post(path, fields = {}) {
      const token = fields[FIELDS.csrfToken] ?? lastCsrfToken;
      const form = new URLSearchParams(fields);
      if (token !== undefined && !form.has(FIELDS.csrfToken)) form.set(FIELDS.csrfToken, token);
      return request('POST', path, form.toString(), 'application/x-www-form-urlencoded');
    },
    postJson(path, body, options = {}) {
      const token = options.csrfToken ?? lastCsrfToken;
      return request('POST', path, JSON.stringify(body), 'application/json', token === undefined ? {} : { [FIELDS.csrfHeader]: token });
    },
    async submit(path, fields, options = {}) {
      const page = await request('GET', path);
      if (page.status !== 200) throw new Error(`submit: GET ${page.url} answered ${page.status}, not a form page${whatThePageSays(page.body)}`);
      if (page.csrfToken === undefined) throw new Error(`submit: no ${FIELDS.csrfToken} in the page at ${page.url}${whatThePageSays(page.body)}`);
      return client.post(options.action ?? page.url, { ...fields, [FIELDS.csrfToken]: page.csrfToken });
    },
    async follow(response) {
      let current = response;
      for (let hop = 0; hop < 10 && current.location !== null && current.status >= 300 && current.status < 400; hop++) {
        current = await request('GET', current.location);
      }
      return current;
    },
  };
  return client;
}

function storeCookie(jar: Map<string, string>, setCookie: string): void {
  const [pair = '', ...attributes] = setCookie.split(';');
  const equals = pair.indexOf('=');
  if (equals <= 0) return;
  const name = pair.slice(0, equals).trim();
  const value = pair.slice(equals + 1).trim();
  const expired = attributes.some((attribute) => {
    const [key = '', attributeValue = ''] = attribute.split('=').map((part) => part.trim());
    if (key.toLowerCase() === 'max-age') return Number(attributeValue) <= 0;
    if (key.toLowerCase() === 'expires') return Date.parse(attributeValue) <= Date.now();
    return false;
  });
  if (expired || value === '') jar.delete(name);
  else jar.set(name, value);
}

/** Finds the token in `<input … name="csrf_token" … value="…">` (any attribute order) or `<meta name="csrf_token" content="…">`. */
function findCsrfToken(html: string): string | undefined {
  for (const tag of html.match(/<(?:input|meta)\b[^>]*>/gi) ?? []) {
    const name = /\bname\s*=\s*["']([^"']*)["']/i.exec(tag)?.[1];
    if (name !== FIELDS.csrfToken && name !== 'csrf-token') continue;
    const value = /\b(?:value|content)\s*=\s*["']([^"']*)["']/i.exec(tag)?.[1];
    if (value !== undefined && value !== '') return decodeHtmlAttribute(value);
  }
  return undefined;
}

/**
 * The page's alert, else its heading, for an error message: a page without the expected form usually
 * says why (e.g. the two-factor page of a locked account: "Too many failed attempts…", no form).
 */
function whatThePageSays(html: string): string {
  const alert = /<(\w+)\b[^>]*\brole="alert"[^>]*>([\s\S]*?)<\/\1>/i.exec(html)?.[2];
  const heading = /<h1\b[^>]*>([\s\S]*?)<\/h1>/i.exec(html)?.[1];
  const text = [alert, heading]
    .map((fragment) =>
      decodeHtmlAttribute((fragment ?? '').replace(/<[^>]*>/g, ' '))
        .replace(/\s+/g, ' ')
        .trim(),
    )
    .find(Boolean);
  return text ? ` (the page says: "${text.slice(0, 200)}")` : '';
}

function decodeHtmlAttribute(value: string): string {
  return value
    .replace(/&quot;/g, '"')
    .replace(/&#x27;|&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}
