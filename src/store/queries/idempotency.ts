// Stored outcomes of idempotent requests, kept for as long as the ledger.
import type { Db } from '../database.js';
import { precompiled } from '../precompiled.js';

export interface StoredIdempotency {
  fingerprint: string;
  event_id: string;
  status: number;
  response_json: string;
}

const selectByKey = precompiled<{ apiKeyId: string; key: string }>(['apiKeyId', 'key'], (db, v) =>
  db
    .selectFrom('idempotency_keys')
    .select(['fingerprint', 'event_id', 'status', 'response_json'])
    .where('api_key_id', '=', v.apiKeyId)
    .where('key', '=', v.key),
);

export async function findIdempotency(db: Db, apiKeyId: string, key: string): Promise<StoredIdempotency | undefined> {
  return (await selectByKey<StoredIdempotency>(db, { apiKeyId, key })).rows[0];
}
