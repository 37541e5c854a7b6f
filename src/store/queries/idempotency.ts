// Stored outcomes of idempotent requests, kept for as long as the ledger.
import type { Db } from '../database.js';

export interface StoredIdempotency {
  fingerprint: string;
  event_id: string;
  status: number;
  response_json: string;
}

export async function findIdempotency(db: Db, apiKeyId: string, key: string): Promise<StoredIdempotency | undefined> {
  return db
    .selectFrom('idempotency_keys')
    .select(['fingerprint', 'event_id', 'status', 'response_json'])
    .where('api_key_id', '=', apiKeyId)
    .where('key', '=', key)
    .executeTakeFirst();
}
