// Projections of attempts: leases taken (attempts.leased), attempts recorded (attempt.recorded), and
// deliveries put back in the queue (deliveries.requeued, which also moves a bulk job on). The kinds earlier releases wrote for the
// same (attempt.started, attempt.finished, attempt.interrupted) keep their projections, so their
// ledgers replay.
import { sql } from 'kysely';
import type { AttemptReport } from '../../../domain/ledger-entry.js';
import type { Db } from '../connection.js';
import { advanceJob } from './requeue-jobs.js';
import type { Projections, Tally } from './shared.js';

// The statements every attempt runs are written as SQL text: kysely's builder cost more than SQLite
// took to run them.

/**
 * A delivery after an attempt: where it stands, when it is next due; its next attempt is a retry by herald.
 * Returns what the follow-ups need of it. Read, then written: UPDATE … RETURNING builds a temporary table
 * on every run and cost four times the plain UPDATE.
 */
async function settleDelivery(db: Db, at: string, r: Pick<AttemptReport, 'delivery_id' | 'delivery_status' | 'next_attempt_at' | 'outcome'>) {
  const { rows } = await sql<{ endpoint_id: string | null; digest_events_json: string | null }>`
    SELECT endpoint_id, digest_events_json FROM deliveries WHERE id = ${r.delivery_id}`.execute(db);
  await sql`UPDATE deliveries
            SET status = ${r.delivery_status}, next_attempt_at = ${r.next_attempt_at}, lease_until = NULL, last_outcome = ${r.outcome},
                next_trigger = 'retry', next_actor = 'herald', updated_at = ${at}
            WHERE id = ${r.delivery_id}`.execute(db);
  return rows[0];
}

/** What follows a finished attempt: the deliveries a digest carries share its fate; the endpoint's health. */
async function afterAttempt(db: Db, tally: Tally, at: string, r: AttemptReport, delivery: { endpoint_id: string | null; digest_events_json: string | null } | undefined) {
  if (delivery) tally.count(at, delivery.endpoint_id, r.outcome === 'interrupted' ? 'interrupted' : r.delivery_status);
  if (delivery?.digest_events_json) {
    await db.updateTable('deliveries').set({ status: r.delivery_status, last_outcome: r.outcome, updated_at: at }).where('digest_id', '=', r.delivery_id).execute();
  }
  // An interruption is herald's own doing, not the endpoint's: its health stays as it was.
  if (delivery?.endpoint_id && r.outcome !== 'interrupted') {
    tally.attempted(delivery.endpoint_id, r.outcome === 'succeeded', r.delivery_status === 'dead', r.started_at);
  }
}

/** What the attempts row keeps of a finished attempt; its details stay in the entry (entry_seq). */
const attemptColumns = (seq: number, r: AttemptReport) => ({
  started_at: r.started_at,
  finished_at: r.finished_at,
  duration_ms: r.duration_ms,
  outcome: r.outcome,
  status_code: r.status_code,
  error: r.error,
  entry_seq: seq,
});

export const attemptProjections: Projections<
  'attempts.leased' | 'attempt.recorded' | 'deliveries.requeued' | 'attempt.started' | 'attempt.finished' | 'attempt.interrupted'
> = {
  // One UPDATE per lease: a single UPDATE … FROM json_each over the batch cost twice as much per row.
  'attempts.leased': async (db, { at, body }) => {
    for (const l of body.leases) {
      await sql`UPDATE deliveries SET status = 'delivering', attempts = ${l.n}, lease_until = ${l.lease_until}, next_attempt_at = NULL, updated_at = ${at}
                WHERE id = ${l.delivery_id}`.execute(db);
    }
  },

  'attempt.recorded': async (db, { seq, at, body: r }, tally) => {
    await sql`INSERT INTO attempts (delivery_id, n, trigger, actor, lease_until, started_at, finished_at, duration_ms, outcome, status_code, error, entry_seq)
              VALUES (${r.delivery_id}, ${r.n}, ${r.trigger}, ${r.actor}, NULL, ${r.started_at}, ${r.finished_at}, ${r.duration_ms}, ${r.outcome},
                      ${r.status_code}, ${r.error}, ${seq})
              -- an attempt leased by herald 0.1.0 (attempt.started) already has its row
              ON CONFLICT (delivery_id, n) DO UPDATE SET
                started_at = excluded.started_at, finished_at = excluded.finished_at, duration_ms = excluded.duration_ms,
                outcome = excluded.outcome, status_code = excluded.status_code, error = excluded.error, entry_seq = excluded.entry_seq`.execute(db);
    await afterAttempt(db, tally, at, r, await settleDelivery(db, at, r));
  },

  'deliveries.requeued': async (db, { at, actor, body }) => {
    await db
      .updateTable('deliveries')
      .set((eb) => ({
        status: 'pending',
        next_attempt_at: body.next_attempt_at,
        next_trigger: body.trigger,
        next_actor: actor,
        cycle_start: eb.ref('attempts'), // a redelivery or recovery starts a fresh retry cycle
        updated_at: at,
      }))
      .where('id', 'in', sql<string>`(select value from json_each(${JSON.stringify(body.delivery_ids)}))`)
      .execute();
    if (body.job) await advanceJob(db, at, body.job, body.delivery_ids.length);
  },

  // Earlier releases: a lease per attempt (attempt.started, with the attempt's row), then its result.
  'attempt.started': async (db, { at, actor, body }) => {
    await db
      .updateTable('deliveries')
      .set({ status: 'delivering', attempts: body.n, lease_until: body.lease_until, next_attempt_at: null, updated_at: at })
      .where('id', '=', body.delivery_id)
      .execute();
    await db
      .insertInto('attempts')
      .values({
        delivery_id: body.delivery_id,
        n: body.n,
        trigger: body.trigger,
        actor,
        started_at: at,
        lease_until: body.lease_until,
        finished_at: null,
        duration_ms: null,
        outcome: null,
        status_code: null,
        error: null,
        entry_seq: null,
      })
      .execute();
  },

  'attempt.finished': async (db, { seq, at, body: r }, tally) => {
    await db.updateTable('attempts').set(attemptColumns(seq, r)).where('delivery_id', '=', r.delivery_id).where('n', '=', r.n).execute();
    await afterAttempt(db, tally, at, r, await settleDelivery(db, at, r));
  },

  'attempt.interrupted': async (db, { at, body }, tally) => {
    await db
      .updateTable('attempts')
      .set({ finished_at: at, outcome: 'interrupted', error: body.reason })
      .where('delivery_id', '=', body.delivery_id)
      .where('n', '=', body.n)
      .execute();
    const delivery = await settleDelivery(db, at, { delivery_id: body.delivery_id, delivery_status: body.delivery_status, next_attempt_at: body.next_attempt_at, outcome: 'interrupted' });
    if (delivery) tally.count(at, delivery.endpoint_id, 'interrupted');
  },
};
