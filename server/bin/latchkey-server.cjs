// The server's entry point (`npm start`). CommonJS on purpose: Node starts libuv's thread pool the first
// time it needs it, and its ES module loader needs it to read the entry file — too early for an ES module
// to size the pool. A CommonJS entry loads with synchronous reads, so the size set here is the one used.
//
// Why size it: password hashes (argon2id, 19 MiB each) run on that pool. Its default of 4 threads runs 4
// at once on a 2-core host, where they evict each other's memory from the caches; one thread per core did
// 240 password steps a second where 4 threads did 190 (issue 16, docs/performance.md). An operator's own
// UV_THREADPOOL_SIZE is kept.
'use strict';
const { availableParallelism } = require('node:os');

/** One libuv thread per core, and at least 2 so a file read never waits behind a single hash. */
function threadPoolSize(cores = availableParallelism()) {
  return Math.max(2, cores);
}

module.exports = { threadPoolSize };

if (require.main === module) {
  process.env.UV_THREADPOOL_SIZE ??= String(threadPoolSize());
  import('../dist/main.js').then(
    (server) => server.runFromCommandLine(),
    (error) => {
      console.error(`Latchkey failed to start: ${error instanceof Error ? error.message : String(error)} (run npm run build first?)`);
      process.exit(1);
    },
  );
}
