// Deliveries know their event's type (the console filters by it), and bulk requeue jobs have a table
// of their own (state and progress, projected from requeue.* and deliveries.requeued entries).
// Frozen in time: takes Kysely<any> and never imports herald's types.
import { type Kysely, sql } from 'kysely';

export async function up(outer: Kysely<any>): Promise<void> {
  await outer.transaction().execute(async (db) => {
    await db.schema.alterTable('deliveries').addColumn('event_type', 'text').execute();
    // A digest delivery names the newest event it carries; every delivery takes its event's type.
    await sql`UPDATE deliveries SET event_type = (SELECT type FROM events WHERE events.id = deliveries.event_id)`.execute(db);
    // In creation order per type: a page of one type, newest first, is a range of this index.
    await db.schema.createIndex('deliveries_by_type').on('deliveries').columns(['event_type', 'seq', 'idx']).execute();

    await db.schema
      .createTable('requeue_jobs')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('seq', 'integer', (c) => c.notNull().unique())
      .addColumn('actor', 'text', (c) => c.notNull())
      .addColumn('reason', 'text')
      .addColumn('filters_json', 'text', (c) => c.notNull())
      .addColumn('up_to_seq', 'integer', (c) => c.notNull())
      .addColumn('total', 'integer', (c) => c.notNull())
      .addColumn('requeued', 'integer', (c) => c.notNull())
      .addColumn('cursor_json', 'text')
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('started_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addColumn('finished_at', 'text')
      .execute();
    // Jobs left running are resumed at start: found without reading every job.
    await sql`CREATE INDEX requeue_jobs_running ON requeue_jobs (seq) WHERE state = 'running'`.execute(db);
  });
}

export async function down(outer: Kysely<any>): Promise<void> {
  await outer.transaction().execute(async (db) => {
    await db.schema.dropTable('requeue_jobs').execute();
    await db.schema.dropIndex('deliveries_by_type').execute();
    await db.schema.alterTable('deliveries').dropColumn('event_type').execute();
  });
}
