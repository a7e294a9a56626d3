/**
 * The host names Latchkey treats as "this computer", as `URL.hostname` serialises them (IPv6 in
 * brackets). Only these three: a plain-http exception or a relaxed TLS rule that reached any other
 * name would reach the network.
 */
const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Whether `hostname` (a `URL`'s `hostname`) names this computer: where the extension accepts plain
 * http:// for a self-hosted index under development, and where the server lets SMTP credentials go
 * without TLS (nothing on the wire between the two ends can read them).
 */
export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname);
}
