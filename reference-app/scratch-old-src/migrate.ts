// Schema at start-up, idempotent, under a transaction-scoped advisory lock: N replicas starting together
// serialise here instead of racing on CREATE TABLE / seeding (which would fail with a unique violation on
// pg_type even with IF NOT EXISTS).
import type { Pool } from './db.ts';
import { inTransaction } from './db.ts';

/** Arbitrary but fixed: the lock id every replica agrees on. */
const MIGRATION_LOCK_ID = 727_001;
export const SEEDED_ITEMS = 1000;

const STATEMENTS = [
  `CREATE TABLE IF NOT EXISTS items (
     id integer PRIMARY KEY,
     name text NOT NULL,
     price_cents integer NOT NULL CHECK (price_cents >= 0)
   )`,
  `INSERT INTO items (id, name, price_cents)
     SELECT n, 'item-' || n, (n * 37) % 10000 FROM generate_series(1, ${SEEDED_ITEMS}) AS n
   ON CONFLICT (id) DO NOTHING`,
  `CREATE TABLE IF NOT EXISTS orders (
     id bigserial PRIMARY KEY,
     item_id integer NOT NULL REFERENCES items (id),
     quantity integer NOT NULL CHECK (quantity > 0),
     idempotency_key text UNIQUE,
     created_at timestamptz NOT NULL DEFAULT now()
   )`,
];

export async function migrate(pool: Pool): Promise<void> {
  await inTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_ID]);
    for (const statement of STATEMENTS) await client.query(statement);
  });
}
