// The throwaway PostgreSQL of the tests: one implementation, the reference service's own
// (reference-app/test/support/postgres.ts), which must stand alone; the harness's tests use the same one.
export { freePort, POSTGRES_BIN_DIR, startPostgres, type PostgresHandle, type StartPostgresOptions } from '../reference-app/test/support/postgres.ts';
