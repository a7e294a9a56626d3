/** The page-protection headers DESIGN.md section 2 requires on every answer (ASVS V14.4.3, V14.4.7). */
type Headers = Record<string, string | string[] | undefined> | globalThis.Headers;

function get(headers: Headers, name: string): string {
  const value = headers instanceof globalThis.Headers ? headers.get(name) : headers[name];
  return Array.isArray(value) ? value.join(', ') : (value ?? '');
}

/** Directives the CSP must contain, exactly as DESIGN.md section 2 states them. */
export const REQUIRED_CSP_DIRECTIVES = ["default-src 'self'", "script-src 'self'", "object-src 'none'", "frame-ancestors 'none'"];

/** Which required headers are missing or weaker than required (empty list = all good). */
export function securityHeaderProblems(headers: Headers): string[] {
  const problems: string[] = [];
  const csp = get(headers, 'content-security-policy')
    .split(';')
    .map((d) => d.trim().replace(/\s+/g, ' '));
  // `default-src 'none'` (the server's answer to requests Node's parser refuses, server/src/client-error.ts) is
  // stricter than `default-src 'self'`, and than script-src / object-src when they are absent: they fall back
  // to default-src (CSP 3, "default-src"). frame-ancestors has no fallback and must be there itself.
  const noneByDefault = csp.includes("default-src 'none'");
  const satisfied = (directive: string) => {
    if (csp.includes(directive)) return true;
    const name = directive.split(' ')[0]!;
    if (!noneByDefault || name === 'frame-ancestors') return false;
    return name === 'default-src' || !csp.some((d) => d.startsWith(`${name} `));
  };
  for (const directive of REQUIRED_CSP_DIRECTIVES) if (!satisfied(directive)) problems.push(`CSP lacks ${directive}`);
  if (get(headers, 'x-frame-options').toUpperCase() !== 'DENY') problems.push('X-Frame-Options is not DENY');
  if (get(headers, 'x-content-type-options').toLowerCase() !== 'nosniff') problems.push('X-Content-Type-Options is not nosniff');
  return problems;
}

export function hasSecurityHeaders(headers: Headers): boolean {
  return securityHeaderProblems(headers).length === 0;
}
