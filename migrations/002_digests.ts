// Digests: a delivery can be held for an endpoint's digest (covered by a later digest delivery),
// and a digest delivery lists the events it carries.
import { type Kysely, sql } from 'kysely';

export async function up(outer: Kysely<any>): Promise<void> {
  await outer.transaction().execute(async (db) => {
    await db.schema.alterTable('deliveries').addColumn('digest_id', 'text').execute();
    await db.schema.alterTable('deliveries').addColumn('digest_events_json', 'text').execute();
    await db.schema.createIndex('deliveries_by_digest').on('deliveries').columns(['digest_id']).where(sql.ref('digest_id'), 'is not', null).execute();
    await sql`CREATE INDEX deliveries_held ON deliveries (endpoint_id, seq, idx)
              WHERE status = 'pending' AND next_attempt_at IS NULL AND digest_id IS NULL`.execute(db);
  });
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('deliveries_held').execute();
  await db.schema.dropIndex('deliveries_by_digest').execute();
  await db.schema.alterTable('deliveries').dropColumn('digest_events_json').execute();
  await db.schema.alterTable('deliveries').dropColumn('digest_id').execute();
}
