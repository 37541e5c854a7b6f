// Projections of bulk requeue jobs: requeue.started creates the job's row, each chunk (a
// deliveries.requeued entry naming the job) advances its count and cursor, requeue.finished closes it.
import { sql } from 'kysely';
import type { EntryBodies } from '../../../domain/ledger-entry.js';
import type { Db } from '../connection.js';
import type { Projections } from './shared.js';

/** A chunk of a job committed: its progress and where the next chunk starts move with it, atomically. */
export async function advanceJob(db: Db, at: string, job: NonNullable<EntryBodies['deliveries.requeued']['job']>, requeued: number): Promise<void> {
  await sql`UPDATE requeue_jobs SET requeued = requeued + ${requeued}, cursor_json = ${JSON.stringify(job.cursor)}, updated_at = ${at}
            WHERE id = ${job.id}`.execute(db);
}

export const requeueJobProjections: Projections<'requeue.started' | 'requeue.finished'> = {
  'requeue.started': async (db, { seq, at, actor, body }) => {
    await db
      .insertInto('requeue_jobs')
      .values({
        id: body.job_id,
        seq,
        actor,
        reason: body.reason,
        filters_json: JSON.stringify(body.filters),
        up_to_seq: body.up_to_seq,
        total: body.total,
        requeued: 0,
        cursor_json: null,
        state: 'running',
        started_at: at,
        updated_at: at,
        finished_at: null,
      })
      .execute();
  },

  'requeue.finished': async (db, { at, body }) => {
    await db
      .updateTable('requeue_jobs')
      .set({ state: 'finished', requeued: body.requeued, updated_at: at, finished_at: at })
      .where('id', '=', body.job_id)
      .execute();
  },
};
