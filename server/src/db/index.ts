export { openDatabase, parseDatabaseUrl, type DatabaseTarget } from './open-database.js';
export { migrateToLatest } from './migrate.js';
export { isPostgres } from './dialect.js';
export type * from './schema.js';
