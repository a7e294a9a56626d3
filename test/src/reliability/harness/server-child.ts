/**
 * Entry point of a Latchkey server child process for the reliability suite. The parent passes the
 * configuration overrides as JSON in LATCHKEY_RELIABILITY_CONFIG (database URL, shared secret key,
 * rate limits) so several children can act as instances of one deployment: same database, same
 * secret, separate processes that the parent may kill -9.
 *
 * Prints one line `LATCHKEY_CHILD_READY <url>` on stdout when it listens.
 */
import { testConfig, type Config } from '../../../../server/src/config.js';
import { startServer } from '../../../../server/src/main.js';

const raw = process.env.LATCHKEY_RELIABILITY_CONFIG;
if (!raw) throw new Error('LATCHKEY_RELIABILITY_CONFIG is not set');
const overrides = JSON.parse(raw) as Partial<Config>;
const server = await startServer(testConfig({ ...overrides, port: 0 }));
process.stdout.write(`LATCHKEY_CHILD_READY ${server.url}\n`);

// The parent holds our stdin open; when it goes away (even by SIGKILL) we go too.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();

let closing = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (closing) return;
    closing = true;
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
