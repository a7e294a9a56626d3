/**
 * fast-check arbitraries for hostile HTTP requests against every Latchkey route (DESIGN.md section 2):
 * random and malformed fields, huge bodies, wrong content types, invalid UTF-8, broken JSON,
 * missing/forged CSRF tokens, forged/expired/tampered two-factor tokens and bad WebAuthn payloads.
 *
 * A request is built from a {@link FuzzContext}: real values harvested from the running server
 * (a valid session cookie + CSRF token, a valid two-factor token) so that the fuzzer reaches past
 * the first check and into validation, and mixes them with forgeries.
 */
import fc from 'fast-check';
import { FIELDS, ROUTES } from '@latchkey/shared';
import type { RawRequest } from './harness/raw-http.js';

/** Real credentials the fuzzer may use or corrupt. */
export interface FuzzContext {
  /** `Cookie` header of a logged-in session (user with TOTP + a security key + recovery codes). */
  sessionCookie: string;
  /** CSRF token valid for {@link sessionCookie}. */
  sessionCsrf: string;
  /** `Cookie` header of an anonymous session that went through the password step. */
  pendingCookie: string;
  /** CSRF token valid for {@link pendingCookie}. */
  pendingCsrf: string;
  /** A valid (unexpired, unused) two-factor token for {@link pendingCookie}. */
  twoFactorToken: string;
  /** A two-factor token that has expired (signed with the real key, issued > 300 s ago), if available. */
  expiredTwoFactorToken?: string;
  /** A real e-mail verification token of the logged-in user (the `token` of /account/verify-email/), if available. */
  emailVerifyToken?: string;
}

/** Every route and the methods it answers, plus methods it does not. */
const ROUTE_LIST = Object.values(ROUTES);
/** Routes that must never be hit with a valid session + valid CSRF by the fuzzer (they end the session). */
const SESSION_ENDING = new Set<string>([ROUTES.logout, ROUTES.revokeSessions]);

const FIELD_NAMES = [...Object.values(FIELDS), 'credential', 'code', '__proto__', 'constructor', 'a[b]', 'a[]', ''];

/** Strings people and attackers send: empty, huge, unicode, control characters, NUL, SQL/HTML-ish. */
const nastyString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.stringMatching(/^[0-9]{1,8}$/) },
  { weight: 1, arbitrary: fc.stringMatching(/^[0-9a-fA-F -]{10,24}$/) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '',
      ' ',
      '\u0000',
      "' OR 1=1 --",
      '<script>alert(1)</script>',
      '../../etc/passwd',
      '%00',
      '\uD800',
      '\uFEFF',
      'A'.repeat(5_000),
      '𝕏'.repeat(300),
      'null',
      'undefined',
      '[object Object]',
      '1e309',
      '-1',
      'https://evil.example/',
      '//evil.example',
      '/\\evil.example',
      'javascript:alert(1)',
    ),
  },
);

/** Percent-encoding of arbitrary bytes, including invalid UTF-8 sequences. */
function percentEncodeBytes(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => `%${b.toString(16).padStart(2, '0')}`).join('');
}
const invalidUtf8Bytes = fc.oneof(
  fc.constantFrom(
    Uint8Array.of(0xff),
    Uint8Array.of(0xc0, 0xaf),
    Uint8Array.of(0xed, 0xa0, 0x80),
    Uint8Array.of(0xe2, 0x82),
    Uint8Array.of(0xf8, 0x88, 0x80, 0x80, 0x80),
    Uint8Array.of(0x80, 0x80, 0x80),
  ),
  fc.uint8Array({ minLength: 1, maxLength: 24 }),
);

/** A form value: normal text, invalid UTF-8 (percent-encoded or raw), or an encoding trick. */
const formValue: fc.Arbitrary<string> = fc.oneof(
  { weight: 5, arbitrary: nastyString.map((s) => encodeURIComponent(safeForEncoding(s))) },
  { weight: 2, arbitrary: invalidUtf8Bytes.map(percentEncodeBytes) },
  { weight: 1, arbitrary: fc.constantFrom('%', '%zz', '%2', '+++', '%u0041', '=') },
);

function safeForEncoding(s: string): string {
  // encodeURIComponent throws on lone surrogates; replace them like a browser would.
  return s.replace(/[\uD800-\uDFFF]/g, '\uFFFD');
}

type CsrfKind = 'valid' | 'missing' | 'forged' | 'other-session' | 'empty' | 'huge' | 'duplicated';
type SessionKind = 'logged-in' | 'pending' | 'none' | 'garbage';
type TokenKind = 'valid' | 'tampered' | 'forged' | 'expired' | 'missing' | 'empty' | 'duplicated' | 'huge';

const formBody = fc
  .array(
    fc.tuple(
      fc.oneof(
        fc.constantFrom(...FIELD_NAMES),
        nastyString.map((s) => encodeURIComponent(safeForEncoding(s))),
      ),
      formValue,
    ),
    {
      maxLength: 8,
    },
  )
  .map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join('&'));

/** WebAuthn-ish JSON: right shape, wrong contents. */
const webauthnCredential = fc.record(
  {
    id: nastyString,
    rawId: nastyString,
    type: fc.constantFrom('public-key', 'password', '', 42 as unknown as string),
    response: fc.oneof(
      fc.record(
        {
          clientDataJSON: fc.oneof(nastyString, fc.base64String({ maxLength: 200 })),
          authenticatorData: fc.oneof(nastyString, fc.base64String({ maxLength: 200 })),
          signature: fc.oneof(nastyString, fc.base64String({ maxLength: 200 })),
          attestationObject: fc.oneof(nastyString, fc.base64String({ maxLength: 400 })),
          userHandle: fc.oneof(nastyString, fc.constant(null)),
          transports: fc.oneof(fc.array(nastyString, { maxLength: 3 }), nastyString),
        },
        { requiredKeys: [] },
      ),
      fc.jsonValue({ maxDepth: 2 }),
    ),
    clientExtensionResults: fc.oneof(fc.constant({}), fc.jsonValue({ maxDepth: 2 })),
    authenticatorAttachment: fc.oneof(fc.constant('cross-platform'), nastyString),
  },
  { requiredKeys: [] },
);

const jsonBody: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .record({ credential: webauthnCredential, label: fc.oneof(nastyString, fc.jsonValue({ maxDepth: 1 })) }, { requiredKeys: [] })
      .map((v) => JSON.stringify(v)),
  },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '{',
      '{"credential":',
      'nul',
      '[1,2',
      '{"a":1}}',
      '\u0000',
      '{"__proto__":{"polluted":true}}',
      '{"constructor":{"prototype":{"x":1}}}',
      '1'.repeat(400),
      '['.repeat(5000),
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 60 }) },
);

type BodyKind =
  | { kind: 'form'; text: string }
  | { kind: 'json'; text: string }
  | { kind: 'bytes'; bytes: Uint8Array }
  | { kind: 'huge'; size: number }
  | { kind: 'none' };

const bodyArb: fc.Arbitrary<BodyKind> = fc.oneof(
  { weight: 6, arbitrary: formBody.map((text) => ({ kind: 'form' as const, text })) },
  { weight: 4, arbitrary: jsonBody.map((text) => ({ kind: 'json' as const, text })) },
  { weight: 2, arbitrary: fc.oneof(invalidUtf8Bytes, fc.uint8Array({ maxLength: 300 })).map((bytes) => ({ kind: 'bytes' as const, bytes })) },
  // Huge bodies are rare (each costs a megabyte of loopback traffic) but always exercised.
  { weight: 1, arbitrary: fc.constantFrom(200_000, 1_100_000, 3_000_000).map((size) => ({ kind: 'huge' as const, size })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'none' as const }) },
);

const contentTypeArb = fc.constantFrom<string | undefined>(
  'application/x-www-form-urlencoded',
  'application/x-www-form-urlencoded',
  'application/json',
  'application/json',
  'application/json; charset=utf-16',
  'application/x-www-form-urlencoded; charset=latin1',
  'text/plain',
  'multipart/form-data; boundary=----x',
  'multipart/form-data',
  'application/octet-stream',
  'application/xml',
  'garbage/;;;=',
  '',
  undefined,
);

const methodArb = fc.constantFrom('GET', 'POST', 'POST', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS');

const pathSuffixArb = fc.constantFrom('', '', '', '/', '%', '%zz', '%c0%af', '/..%2f..%2f', '/%00', '?', '??', '#x', '.json');

const tokenKindArb = fc.constantFrom<TokenKind>('valid', 'valid', 'tampered', 'forged', 'expired', 'missing', 'empty', 'duplicated', 'huge');
const csrfKindArb = fc.constantFrom<CsrfKind>('valid', 'valid', 'valid', 'missing', 'forged', 'other-session', 'empty', 'huge', 'duplicated');
const sessionKindArb = fc.constantFrom<SessionKind>('logged-in', 'logged-in', 'pending', 'pending', 'none', 'garbage');

/** One generated request description (printable by fast-check on failure). */
export interface FuzzCase {
  method: string;
  route: string;
  suffix: string;
  session: SessionKind;
  csrf: CsrfKind;
  csrfIn: 'form' | 'header' | 'both';
  token: TokenKind;
  tamperAt: number;
  contentType: string | undefined;
  body: BodyKind;
  next: string | undefined;
}

export const fuzzCaseArb: fc.Arbitrary<FuzzCase> = fc.record({
  method: methodArb,
  route: fc.constantFrom(...ROUTE_LIST),
  suffix: pathSuffixArb,
  session: sessionKindArb,
  csrf: csrfKindArb,
  csrfIn: fc.constantFrom<'form' | 'header' | 'both'>('form', 'header', 'both'),
  token: tokenKindArb,
  tamperAt: fc.nat(),
  contentType: contentTypeArb,
  body: bodyArb,
  next: fc.option(formValue, { nil: undefined }),
});

/** Flip one character of a token at a chosen position (stays in the base64url alphabet). */
function tamper(token: string, at: number): string {
  if (token.length === 0) return 'x';
  const i = at % token.length;
  const c = token[i]!;
  const replacement = c === 'A' ? 'B' : 'A';
  return token.slice(0, i) + replacement + token.slice(i + 1);
}

/** Turn a generated case into bytes on the wire, using (or corrupting) the real credentials in `ctx`. */
export function materialize(c: FuzzCase, ctx: FuzzContext): RawRequest {
  const headers: Record<string, string> = {};
  const session = c.session === 'logged-in' && SESSION_ENDING.has(c.route) && c.csrf === 'valid' ? 'pending' : c.session;
  const ownCsrf = session === 'logged-in' ? ctx.sessionCsrf : ctx.pendingCsrf;
  const otherCsrf = session === 'logged-in' ? ctx.pendingCsrf : ctx.sessionCsrf;
  if (session === 'logged-in') headers.cookie = ctx.sessionCookie;
  else if (session === 'pending') headers.cookie = ctx.pendingCookie;
  else if (session === 'garbage') headers.cookie = `session=${'x'.repeat(c.tamperAt % 5000)}; lk_session=%ff%00; __Host-session=..`;

  let csrfValue: string | string[] | undefined;
  switch (c.csrf) {
    case 'valid':
      csrfValue = ownCsrf;
      break;
    case 'missing':
      csrfValue = undefined;
      break;
    case 'forged':
      csrfValue = tamper(ownCsrf, c.tamperAt);
      break;
    case 'other-session':
      csrfValue = otherCsrf;
      break;
    case 'empty':
      csrfValue = '';
      break;
    case 'huge':
      csrfValue = 'A'.repeat(20_000);
      break;
    case 'duplicated':
      csrfValue = [ownCsrf, tamper(ownCsrf, c.tamperAt)];
      break;
  }
  if (csrfValue !== undefined && c.csrfIn !== 'form') {
    headers[FIELDS.csrfHeader] = Array.isArray(csrfValue) ? csrfValue.join(', ') : csrfValue;
  }

  let token: string[] = [];
  // The verification page takes its own kind of token in the same `token` parameter.
  const realToken = c.route === ROUTES.verifyEmail && ctx.emailVerifyToken ? ctx.emailVerifyToken : ctx.twoFactorToken;
  switch (c.token) {
    case 'valid':
      token = [realToken];
      break;
    case 'tampered':
      token = [tamper(realToken, c.tamperAt)];
      break;
    case 'forged':
      token = [`${Buffer.from(JSON.stringify({ uid: 1, exp: Date.now() + 1e9 })).toString('base64url')}.AAAA`];
      break;
    case 'expired':
      token = [ctx.expiredTwoFactorToken ?? tamper(ctx.twoFactorToken, c.tamperAt)];
      break;
    case 'missing':
      token = [];
      break;
    case 'empty':
      token = [''];
      break;
    case 'duplicated':
      token = [ctx.twoFactorToken, ctx.twoFactorToken];
      break;
    case 'huge':
      token = ['A'.repeat(30_000)];
      break;
  }
  const query = [...token.map((t) => `${FIELDS.twoFactorToken}=${encodeURIComponent(t)}`), ...(c.next !== undefined ? [`${FIELDS.next}=${c.next}`] : [])].join(
    '&',
  );
  const path = `${c.route}${c.suffix}${query ? (c.suffix.includes('?') ? '&' : '?') + query : ''}`;

  if (c.contentType !== undefined) headers['content-type'] = c.contentType;
  let body: Uint8Array | string | undefined;
  const csrfFormPart =
    csrfValue !== undefined && c.csrfIn !== 'header'
      ? (Array.isArray(csrfValue) ? csrfValue : [csrfValue]).map((v) => `${FIELDS.csrfToken}=${encodeURIComponent(v)}`).join('&')
      : '';
  switch (c.body.kind) {
    case 'form':
      body = [csrfFormPart, c.body.text].filter(Boolean).join('&');
      break;
    case 'json':
      body = c.body.text;
      break;
    case 'bytes':
      body = c.body.bytes;
      break;
    case 'huge':
      body = `${csrfFormPart}&${FIELDS.totpValue}=${'1'.repeat(c.body.size)}`;
      break;
    case 'none':
      body = undefined;
      break;
  }
  if (c.method === 'GET' || c.method === 'HEAD') {
    // Bodies on GET are legal but unusual; keep some, drop most, as real clients do.
    if (c.tamperAt % 4 !== 0) body = undefined;
  }
  if (body !== undefined) headers['content-length'] = String(typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength);
  return { method: c.method, path, headers, body };
}
