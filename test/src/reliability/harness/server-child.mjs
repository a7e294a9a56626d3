/**
 * Entry point of a Latchkey server child process for the reliability suite. The parent passes the
 * configuration overrides as JSON in LATCHKEY_RELIABILITY_CONFIG (database URL, shared secret key,
 * rate limits) so several children can act as instances of one deployment: same database, same
 * secret, separate processes that the parent may kill -9.
 *
 * It runs the built server (server/dist, what `npm start` runs), in plain Node: compiling the server's
 * TypeScript in every child cost ~1.8 s of CPU per start on 2 slow cores, and the suites start 21.
 * server-process.ts refuses to start one from a build older than server/src.
 *
 * Prints one line `LATCHKEY_CHILD_READY <url>` on stdout when it listens.
 */
import { testConfig } from '../../../../server/dist/config.js';
import { startServer } from '../../../../server/dist/main.js';

const raw = process.env.LATCHKEY_RELIABILITY_CONFIG;
if (!raw) throw new Error('LATCHKEY_RELIABILITY_CONFIG is not set');
/** @type {Partial<import('../../../../server/src/config.js').Config>} */
const overrides = JSON.parse(raw);
const server = await startServer(testConfig({ ...overrides, port: 0 }));
process.stdout.write(`LATCHKEY_CHILD_READY ${server.url}\n`);

// The parent holds our stdin open; when it goes away (even by SIGKILL) we go too.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();

let closing = false;
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    if (closing) return;
    closing = true;
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
