// Stored outcomes of idempotent requests, kept for as long as the ledger.
import { sql } from 'kysely';
import type { StoredIdempotency } from '../../records.js';
import type { Db } from '../connection.js';

/** Asked for every ingested event: SQL text, as kysely's builder cost more than SQLite took to run it. */
export async function findIdempotency(db: Db, apiKeyId: string, key: string): Promise<StoredIdempotency | undefined> {
  const { rows } = await sql<StoredIdempotency>`SELECT fingerprint, event_id, status, response_json FROM idempotency_keys
                                                 WHERE api_key_id = ${apiKeyId} AND key = ${key}`.execute(db);
  return rows[0];
}

export async function eventIdsByKey(db: Db, key: string): Promise<string[]> {
  const rows = await db.selectFrom('idempotency_keys').select('event_id').where('key', '=', key).orderBy('seq', 'desc').limit(100).execute();
  return rows.map((r) => r.event_id);
}
