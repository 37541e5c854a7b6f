// Projections of event.received (the event, its deliveries, its idempotency key) and digest.created
// (one delivery carrying many events).
import { type Insertable, sql } from 'kysely';
import { ingestAnswer } from '../../../domain/event.js';
import type { Db } from '../connection.js';
import type { DeliveriesTable } from '../schema.js';
import { json, type Projections } from './shared.js';

type NewDelivery = Pick<
  Insertable<DeliveriesTable>,
  'id' | 'seq' | 'idx' | 'event_id' | 'event_type' | 'endpoint_id' | 'channel' | 'recipients_json' | 'next_attempt_at' | 'digest_events_json'
>;

/** A delivery row as it starts: pending, no attempt yet, its first attempt an `initial` one by `actor`. */
function newDelivery(d: NewDelivery, actor: string, at: string): Insertable<DeliveriesTable> {
  return {
    ...d,
    status: 'pending',
    attempts: 0,
    cycle_start: 0,
    next_trigger: 'initial',
    next_actor: actor,
    lease_until: null,
    last_outcome: null,
    created_at: at,
    updated_at: at,
    digest_id: null,
  };
}

/** Rows per INSERT: SQLite refuses a statement with more than 32,766 bound values (a fan-out to ~1,700 endpoints). */
const DELIVERIES_PER_INSERT = 500;

async function insertDeliveries(db: Db, rows: Insertable<DeliveriesTable>[]): Promise<void> {
  const columns = Object.keys(rows[0]!) as Array<keyof DeliveriesTable>;
  const names = sql.join(columns.map((c) => sql.ref(c)));
  for (let i = 0; i < rows.length; i += DELIVERIES_PER_INSERT) {
    const values = rows.slice(i, i + DELIVERIES_PER_INSERT).map((r) => sql`(${sql.join(columns.map((c) => r[c]))})`);
    await sql`INSERT INTO deliveries (${names}) VALUES ${sql.join(values)}`.execute(db);
  }
}

export const eventProjections: Projections<'event.received' | 'digest.created'> = {
  'event.received': async (db, { seq, at, actor, body }, tally) => {
    const ev = body.event;
    // Every ingested event runs these: SQL text, as kysely's builder cost more than SQLite took to run them.
    await sql`INSERT INTO events (id, seq, type, source, subject, user, occurred_at, received_at, data_json, notify_json, api_key_id)
              VALUES (${ev.id}, ${seq}, ${ev.type}, ${ev.source}, ${ev.subject}, ${ev.user}, ${ev.occurred_at}, ${ev.received_at},
                      ${JSON.stringify(ev.data)}, ${json(ev.notify)}, ${body.api_key_id})`.execute(db);
    tally.count(at, null, 'received');
    tally.position(seq, at);
    if (body.deliveries.length > 0) {
      await insertDeliveries(
        db,
        body.deliveries.map((d, idx) =>
          newDelivery(
            { id: d.id, seq, idx, event_id: ev.id, event_type: ev.type, endpoint_id: d.endpoint_id, channel: d.channel, recipients_json: json(d.recipients), next_attempt_at: d.next_attempt_at, digest_events_json: null },
            actor,
            at,
          ),
        ),
      );
    }
    if (body.idempotency && body.api_key_id) {
      await sql`INSERT INTO idempotency_keys (api_key_id, key, fingerprint, event_id, status, response_json, seq)
                VALUES (${body.api_key_id}, ${body.idempotency.key}, ${body.idempotency.fingerprint}, ${ev.id}, 202,
                        ${JSON.stringify(ingestAnswer(ev, body.deliveries))}, ${seq})`.execute(db);
    }
  },

  'digest.created': async (db, { seq, at, actor, body }, tally) => {
    tally.position(seq, at);
    // A digest delivery names (and takes the type of) the newest event it carries.
    const eventId = body.event_ids[body.event_ids.length - 1]!;
    const event = await db.selectFrom('events').select('type').where('id', '=', eventId).executeTakeFirst();
    await db
      .insertInto('deliveries')
      .values(
        newDelivery(
          {
            id: body.delivery.id,
            seq,
            idx: 0,
            event_id: eventId,
            event_type: event?.type ?? null,
            endpoint_id: body.delivery.endpoint_id,
            channel: body.delivery.channel,
            recipients_json: null,
            next_attempt_at: body.delivery.next_attempt_at,
            digest_events_json: JSON.stringify(body.event_ids),
          },
          actor,
          at,
        ),
      )
      .execute();
    await db
      .updateTable('deliveries')
      .set({ digest_id: body.delivery.id, updated_at: at })
      .where('id', 'in', sql<string>`(select value from json_each(${JSON.stringify(body.delivery_ids)}))`)
      .execute();
  },
};
