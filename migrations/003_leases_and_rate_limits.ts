// Leases by endpoint: the scheduler asks each endpoint for its due deliveries (oldest first) and finds
// which endpoints have work by scanning what came due (due time, then endpoint: a covering index).
// Leases in flight are few: the reaper finds them through deliveries_by_status, so the index of lease
// deadlines goes (one index less to keep per lease). Endpoints may carry a rate limit.
import { type Kysely, sql } from 'kysely';

export async function up(outer: Kysely<any>): Promise<void> {
  await outer.transaction().execute(async (db) => {
    await db.schema.alterTable('endpoints').addColumn('rate_limit_json', 'text').execute();
    await db.schema.dropIndex('deliveries_due').execute();
    await sql`CREATE INDEX deliveries_due ON deliveries (next_attempt_at, endpoint_id) WHERE status IN ('pending', 'failed')`.execute(db);
    await sql`CREATE INDEX deliveries_due_by_endpoint ON deliveries (endpoint_id, next_attempt_at) WHERE status IN ('pending', 'failed')`.execute(db);
    await db.schema.dropIndex('deliveries_leased').execute();
  });
}

export async function down(outer: Kysely<any>): Promise<void> {
  await outer.transaction().execute(async (db) => {
    await sql`CREATE INDEX deliveries_leased ON deliveries (lease_until) WHERE status = 'delivering'`.execute(db);
    await db.schema.dropIndex('deliveries_due_by_endpoint').execute();
    await db.schema.dropIndex('deliveries_due').execute();
    await sql`CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status IN ('pending', 'failed')`.execute(db);
    await db.schema.alterTable('endpoints').dropColumn('rate_limit_json').execute();
  });
}
