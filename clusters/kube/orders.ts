// The durability audit: which acknowledged order ids the database no longer has.
import pg from 'pg';
import { errors } from '../../contract/errors.ts';
import { sleep } from '../wait.ts';

const UNDEFINED_TABLE = '42P01';

/**
 * Returns the ids (as given, first occurrence order, without duplicates) that are not in `orders`. A missing
 * table means nothing was ever stored, so every id is missing. Connection failures are retried for a while,
 * because the audit may run right after a failover while the `-rw` Service still moves to the new primary.
 */
export async function missingOrders(url: string, ids: readonly string[], retryForMs = 20_000): Promise<string[]> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return [];
  const deadline = Date.now() + retryForMs;
  for (;;) {
    try {
      const present = await presentIds(url, unique);
      return unique.filter((id) => !present.has(id));
    } catch (error) {
      if ((error as { code?: unknown }).code === UNDEFINED_TABLE) return unique;
      if (Date.now() >= deadline) {
        throw errors.SLO_ERR_ENV_PROCESS_FAILED(`cannot audit orders: ${(error as Error).message}`, 'is the database up?', { cause: error });
      }
      await sleep(500);
    }
  }
}

async function presentIds(url: string, ids: readonly string[]): Promise<Set<string>> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000, query_timeout: 30_000 });
  client.on('error', () => {}); // a dropped connection surfaces as the query's rejection
  await client.connect();
  try {
    const result = await client.query<{ id: string }>('select id::text as id from orders where id::text = any($1::text[])', [ids]);
    return new Set(result.rows.map((row) => row.id));
  } finally {
    await client.end().catch(() => {});
  }
}
