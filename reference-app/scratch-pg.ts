import { startPostgres } from './test/support/postgres.ts';
const db = await startPostgres();
console.log(db.url);
process.on('SIGTERM', () => void db.stop().then(() => process.exit(0)));
setInterval(() => undefined, 1 << 30);
