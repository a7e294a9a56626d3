/**
 * A minimal browser for HTTP-level tests: a cookie jar, no automatic redirects, and the CSRF token of
 * the last page it loaded. Only loopback servers are ever addressed.
 */
export interface PageResponse {
  status: number;
  headers: Headers;
  text: string;
  /** The Location header, for 3xx answers. */
  location: string | null;
}

export class TestBrowser {
  readonly cookies = new Map<string, string>();
  /** The csrf_token found in the last HTML page loaded. */
  csrfToken = '';

  constructor(readonly baseUrl: string) {}

  async get(path: string, headers: Record<string, string> = {}): Promise<PageResponse> {
    return this.request('GET', path, undefined, headers);
  }

  /** Post a urlencoded form; the last page's CSRF token is added unless `csrf` says otherwise. */
  async post(
    path: string,
    fields: Record<string, string | string[]> = {},
    options: { csrf?: string | false; headers?: Record<string, string> } = {},
  ): Promise<PageResponse> {
    const body = new URLSearchParams();
    const csrf = options.csrf === undefined ? this.csrfToken : options.csrf;
    if (csrf !== false) body.append('csrf_token', csrf);
    for (const [name, value] of Object.entries(fields)) {
      for (const item of Array.isArray(value) ? value : [value]) body.append(name, item);
    }
    return this.request('POST', path, body.toString(), { 'content-type': 'application/x-www-form-urlencoded', ...options.headers });
  }

  /** Send a raw body (for malformed-input tests). */
  async raw(method: string, path: string, body: string | undefined, headers: Record<string, string>): Promise<PageResponse> {
    return this.request(method, path, body, headers);
  }

  async request(method: string, path: string, body: string | undefined, headers: Record<string, string>): Promise<PageResponse> {
    const url = new URL(path, this.baseUrl);
    const cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await fetch(url, {
      method,
      body,
      redirect: 'manual',
      headers: { ...(cookie ? { cookie } : {}), ...headers },
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const index = pair?.indexOf('=') ?? -1;
      if (!pair || index < 0) continue;
      const name = pair.slice(0, index).trim();
      const value = pair.slice(index + 1).trim();
      if (value === '' || /max-age=0|expires=thu, 01 jan 1970/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const text = await response.text();
    const token = /name="csrf_token" value="([^"]+)"/.exec(text)?.[1];
    if (token) this.csrfToken = token;
    return { status: response.status, headers: response.headers, text, location: response.headers.get('location') };
  }
}

/**
 * A {@link TestBrowser} whose requests come from `ip`, as a server behind one trusted proxy hop sees them
 * (`X-Forwarded-For`; the server must be configured with `trustProxy`).
 */
export class ClientAt extends TestBrowser {
  constructor(
    baseUrl: string,
    readonly ip: string,
  ) {
    super(baseUrl);
  }
  override request(method: string, path: string, body: string | undefined, headers: Record<string, string>) {
    return super.request(method, path, body, { 'x-forwarded-for': this.ip, ...headers });
  }
}
