// Idempotency keys lose their index by key alone (added in 004). Keys are random, so every ingested
// event wrote one more page of that index at a random place; a search by key alone now walks the
// primary key (api_key_id, key) once per API key that used one (see queries/idempotency.ts).
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX IF EXISTS idempotency_keys_by_key`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`CREATE INDEX idempotency_keys_by_key ON idempotency_keys (key)`.execute(db);
}
