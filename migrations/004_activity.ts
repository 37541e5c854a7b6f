// Activity per minute, for the console's charts and endpoint health: events received, and attempts
// by what they left their delivery as (succeeded, failed for now, dead, interrupted), per endpoint.
// Existing ledgers are counted here from their entries, exactly as the projections count new ones,
// so a rebuild compares equal. Each minute's first and last ledger position that made deliveries, so a
// time filter on deliveries becomes a range of positions. Idempotency keys become searchable by key alone.
import { type Kysely, sql } from 'kysely';

export async function up(outer: Kysely<any>): Promise<void> {
  await outer.transaction().execute(async (db) => {
    await sql`CREATE TABLE activity (
                minute TEXT NOT NULL, endpoint_id TEXT NOT NULL, what TEXT NOT NULL, n INTEGER NOT NULL,
                PRIMARY KEY (minute, endpoint_id, what)) WITHOUT ROWID`.execute(db);
    await sql`INSERT INTO activity (minute, endpoint_id, what, n)
              SELECT substr(at, 1, 16), '', 'received', count(*) FROM ledger WHERE kind = 'event.received' GROUP BY 1`.execute(db);
    await sql`INSERT INTO activity (minute, endpoint_id, what, n)
              SELECT substr(l.at, 1, 16), coalesce(d.endpoint_id, ''),
                     CASE WHEN l.kind = 'attempt.interrupted' OR l.body ->> 'outcome' = 'interrupted' THEN 'interrupted'
                          ELSE l.body ->> 'delivery_status' END,
                     count(*)
              FROM ledger AS l JOIN deliveries AS d ON d.id = l.body ->> 'delivery_id'
              WHERE l.kind IN ('attempt.recorded', 'attempt.finished', 'attempt.interrupted')
              GROUP BY 1, 2, 3`.execute(db);
    await sql`CREATE TABLE minute_positions (minute TEXT PRIMARY KEY, first_seq INTEGER NOT NULL, last_seq INTEGER NOT NULL) WITHOUT ROWID`.execute(db);
    await sql`INSERT INTO minute_positions (minute, first_seq, last_seq)
              SELECT substr(at, 1, 16), min(seq), max(seq) FROM ledger WHERE kind IN ('event.received', 'digest.created') GROUP BY 1`.execute(db);
    await sql`CREATE INDEX idempotency_keys_by_key ON idempotency_keys (key)`.execute(db);
  });
}

export async function down(outer: Kysely<any>): Promise<void> {
  await outer.transaction().execute(async (db) => {
    await sql`DROP INDEX idempotency_keys_by_key`.execute(db);
    await sql`DROP TABLE minute_positions`.execute(db);
    await sql`DROP TABLE activity`.execute(db);
  });
}
