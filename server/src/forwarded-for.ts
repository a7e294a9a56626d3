import { isIP } from 'node:net';
import type { RequestHandler } from 'express';

/**
 * One X-Forwarded-For entry without the port some proxies add (`203.0.113.7:5123`, `[2001:db8::7]:443`); an entry
 * in any other form is returned as it is. A bare IPv6 address cannot carry a port unambiguously and is left alone.
 */
export function withoutPort(entry: string): string {
  const text = entry.trim();
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/.exec(text);
  if (v4 && isIP(v4[1]!) === 4) return v4[1]!;
  const v6 = /^\[([0-9A-Fa-f:.]+)\](?::\d{1,5})?$/.exec(text);
  if (v6 && isIP(v6[1]!) === 6) return v6[1]!;
  return text;
}

/**
 * With LATCHKEY_TRUST_PROXY set, X-Forwarded-For entries as `ip:port` or `[v6]:port` are read as their address.
 *
 * Why strip rather than refuse: Express (proxy-addr) takes the entry as it stands, and a value that is not an IP
 * address is never used (routes/http.ts `requestOrigin`), so the socket address — the proxy's own — was used
 * instead. Every client behind such a proxy then shared one address: one person's wrong passwords spent the
 * per-address limits of everyone (ASVS V2.2.1: limits must not let one client lock out others), and the security
 * history showed the proxy for everyone. The port is the client's source port, new on each connection: kept, each
 * connection would be a new rate-limit key, and the limits none. The address alone is what the limits are meant to count.
 *
 * A trusted entry that is still no IP address after this is logged once (`warn`): the proxy's set-up is wrong and
 * every client counts as the proxy. The value is shown escaped and cut short (it reached us from a client, through the proxy).
 */
export function forwardedForWithoutPorts(warn: (line: string) => void = console.warn): RequestHandler {
  let warned = false;
  return (req, _res, next) => {
    const header = req.headers['x-forwarded-for'];
    if (typeof header !== 'string') return next();
    if (header.includes(':')) req.headers['x-forwarded-for'] = header.split(',').map(withoutPort).join(', ');
    if (!warned && req.ip !== undefined && isIP(req.ip) === 0) {
      warned = true;
      warn(
        `Warning: the X-Forwarded-For entry the trusted proxy gave, ${JSON.stringify(req.ip.slice(0, 100))}, is no IP address: the proxy's own address is used, ` +
          'so every client behind it shares one address in the rate limits. Check that the proxy sends the client address (LATCHKEY_TRUST_PROXY: docs/server.md). Said once.',
      );
    }
    next();
  };
}
