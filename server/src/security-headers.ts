import helmet from 'helmet';
import type { Config } from './config.js';
import { isHttps } from './routes/http.js';

/** HSTS over https (RFC 6797): a year, subdomains included. One value for helmet and for the answers Node's parser refuses. */
export const HSTS = { maxAge: 31_536_000, includeSubDomains: true } as const;

/** Sent on every answer: pages carry no referrer to other sites. */
export const REFERRER_POLICY = 'same-origin';

/**
 * CSP and friends on every response (DESIGN.md section 2; ASVS V14.4): scripts only from this
 * origin, no plugins, no framing, forms post only here, no <base> tricks; HSTS over https.
 */
export function securityHeaders(config: Config) {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        objectSrc: ["'none'"],
        frameAncestors: ["'none'"],
        formAction: ["'self'"],
        baseUri: ["'none'"],
      },
    },
    xFrameOptions: { action: 'deny' },
    strictTransportSecurity: isHttps(config) ? HSTS : false,
    referrerPolicy: { policy: REFERRER_POLICY },
    crossOriginEmbedderPolicy: false,
  });
}
