// Stored outcomes of idempotent requests, kept for as long as the ledger.
import type { StoredIdempotency } from '../../records.js';
import type { Db } from '../connection.js';

export async function findIdempotency(db: Db, apiKeyId: string, key: string): Promise<StoredIdempotency | undefined> {
  return db
    .selectFrom('idempotency_keys')
    .select(['fingerprint', 'event_id', 'status', 'response_json'])
    .where('api_key_id', '=', apiKeyId)
    .where('key', '=', key)
    .executeTakeFirst();
}
