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

/**
 * The events recorded with this key by any API key, newest first. There is no index on the key alone
 * (random keys would cost a page write per event): the primary key (api_key_id, key) is searched once
 * for each API key that used idempotency keys, found by skipping from one to the next.
 */
export async function eventIdsByKey(db: Db, key: string): Promise<string[]> {
  const { rows } = await sql<{ event_id: string }>`
    WITH RECURSIVE api_key_ids(id) AS (
      SELECT min(api_key_id) FROM idempotency_keys
      UNION ALL
      SELECT (SELECT min(api_key_id) FROM idempotency_keys WHERE api_key_id > k.id) FROM api_key_ids AS k WHERE k.id IS NOT NULL
    )
    SELECT i.event_id FROM api_key_ids AS k JOIN idempotency_keys AS i ON i.api_key_id = k.id AND i.key = ${key}
    ORDER BY i.seq DESC LIMIT 100`.execute(db);
  return rows.map((r) => r.event_id);
}
