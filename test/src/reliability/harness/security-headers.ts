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
  for (const directive of REQUIRED_CSP_DIRECTIVES) if (!csp.includes(directive)) problems.push(`CSP lacks ${directive}`);
  if (get(headers, 'x-frame-options').toUpperCase() !== 'DENY') problems.push('X-Frame-Options is not DENY');
  if (get(headers, 'x-content-type-options').toLowerCase() !== 'nosniff') problems.push('X-Content-Type-Options is not nosniff');
  return problems;
}

export function hasSecurityHeaders(headers: Headers): boolean {
  return securityHeaderProblems(headers).length === 0;
}
