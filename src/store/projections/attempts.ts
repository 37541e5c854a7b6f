// Projections of attempt.* entries (an attempt starts, finishes or is interrupted, and its delivery
// follows) and deliveries.requeued (a redelivery or recovery puts deliveries back in the queue).
import type { Insertable } from 'kysely';
import { precompiled } from '../precompiled.js';
import type { AttemptsTable, DeliveriesTable } from '../schema.js';
import { trackEndpointHealth } from './endpoints.js';
import { json, type Projections } from './shared.js';

// Written for every attempt (see precompiled.ts).
const markDelivering = precompiled<{ id: string; n: number; lease_until: string; at: string }>(['id', 'n', 'lease_until', 'at'], (db, v) =>
  db.updateTable('deliveries').set({ status: 'delivering', attempts: v.n, lease_until: v.lease_until, next_attempt_at: null, updated_at: v.at }).where('id', '=', v.id),
);
type AttemptStart = Pick<Insertable<AttemptsTable>, 'delivery_id' | 'n' | 'trigger' | 'actor' | 'started_at' | 'lease_until'>;
const insertAttempt = precompiled<AttemptStart>(['delivery_id', 'n', 'trigger', 'actor', 'started_at', 'lease_until'], (db, v) =>
  db.insertInto('attempts').values({
    ...v,
    finished_at: null,
    duration_ms: null,
    outcome: null,
    status_code: null,
    error: null,
    request_headers_json: null,
    response_headers_json: null,
    response_body: null,
    remote_address: null,
  }),
);
type AttemptEnd = Omit<Insertable<AttemptsTable>, 'trigger' | 'actor' | 'lease_until'>;
const finishAttempt = precompiled<AttemptEnd>(
  ['delivery_id', 'n', 'started_at', 'finished_at', 'duration_ms', 'outcome', 'status_code', 'error', 'request_headers_json', 'response_headers_json', 'response_body', 'remote_address'],
  (db, { delivery_id, n, ...v }) => db.updateTable('attempts').set(v).where('delivery_id', '=', delivery_id).where('n', '=', n),
);
const settleDelivery = precompiled<{ id: string; status: string; next_attempt_at: string | null; last_outcome: string; at: string }>(
  ['id', 'status', 'next_attempt_at', 'last_outcome', 'at'],
  (db, v) =>
    db
      .updateTable('deliveries')
      .set({
        status: v.status as DeliveriesTable['status'],
        next_attempt_at: v.next_attempt_at,
        lease_until: null,
        last_outcome: v.last_outcome as DeliveriesTable['last_outcome'],
        next_trigger: 'retry',
        next_actor: 'herald',
        updated_at: v.at,
      })
      .where('id', '=', v.id)
      .returning(['endpoint_id', 'digest_events_json']),
);

export const attemptProjections: Projections<'attempt.started' | 'attempt.finished' | 'attempt.interrupted' | 'deliveries.requeued'> = {
  'attempt.started': async (db, { at, actor, body }) => {
    await markDelivering(db, { id: body.delivery_id, n: body.n, lease_until: body.lease_until, at });
    await insertAttempt(db, { delivery_id: body.delivery_id, n: body.n, trigger: body.trigger, actor, started_at: at, lease_until: body.lease_until });
  },

  'attempt.finished': async (db, { at, body: r }) => {
    await finishAttempt(db, {
      delivery_id: r.delivery_id,
      n: r.n,
      started_at: r.started_at,
      finished_at: r.finished_at,
      duration_ms: r.duration_ms,
      outcome: r.outcome,
      status_code: r.status_code,
      error: r.error,
      request_headers_json: json(r.request_headers),
      response_headers_json: json(r.response_headers),
      response_body: r.response_body,
      remote_address: r.remote_address,
    });
    const { rows } = await settleDelivery<{ endpoint_id: string | null; digest_events_json: string | null }>(db, {
      id: r.delivery_id,
      status: r.delivery_status,
      next_attempt_at: r.next_attempt_at,
      last_outcome: r.outcome,
      at,
    });
    const delivery = rows[0];
    if (delivery?.digest_events_json) {
      // the deliveries a digest carries share its fate
      await db.updateTable('deliveries').set({ status: r.delivery_status, last_outcome: r.outcome, updated_at: at }).where('digest_id', '=', r.delivery_id).execute();
    }
    if (delivery?.endpoint_id) await trackEndpointHealth(db, delivery.endpoint_id, r.outcome === 'succeeded', r.delivery_status === 'dead', r.started_at);
  },

  'attempt.interrupted': async (db, { at, body }) => {
    await db
      .updateTable('attempts')
      .set({ finished_at: at, outcome: 'interrupted', error: body.reason })
      .where('delivery_id', '=', body.delivery_id)
      .where('n', '=', body.n)
      .execute();
    await db
      .updateTable('deliveries')
      .set({
        status: body.delivery_status,
        next_attempt_at: body.next_attempt_at,
        lease_until: null,
        last_outcome: 'interrupted',
        next_trigger: 'retry',
        next_actor: 'herald',
        updated_at: at,
      })
      .where('id', '=', body.delivery_id)
      .execute();
  },

  'deliveries.requeued': async (db, { at, actor, body }) => {
    for (const id of body.delivery_ids) {
      const row = await db.selectFrom('deliveries').select('attempts').where('id', '=', id).executeTakeFirst();
      if (!row) continue;
      await db
        .updateTable('deliveries')
        .set({
          status: 'pending',
          next_attempt_at: body.next_attempt_at,
          next_trigger: body.trigger,
          next_actor: actor,
          cycle_start: row.attempts, // a redelivery or recovery starts a fresh retry cycle
          updated_at: at,
        })
        .where('id', '=', id)
        .execute();
    }
  },
};
