// The projections: one function per ledger entry kind, writing the tables the API reads. The live
// append path and `ledger rebuild` both call applyEntry, so replaying the ledger reproduces them exactly.
import type { EndpointRecord } from '../domain/endpoint.js';
import { ingestAnswer } from '../domain/event.js';
import type { EntryKind, LedgerEntry } from '../domain/ledger-entry.js';
import type { Db } from './database.js';
import type { Insertable } from 'kysely';
import { precompiled } from './precompiled.js';
import type { AttemptsTable, DeliveriesTable, EndpointsTable, EventsTable, IdempotencyKeysTable } from './schema.js';

type Apply<K extends EntryKind> = (db: Db, e: LedgerEntry<K>) => Promise<void>;

const json = (v: unknown) => (v == null ? null : JSON.stringify(v));

// Written for every ingested event: compiled once (see precompiled.ts).
const insertEvent = precompiled<Insertable<EventsTable>>(
  ['id', 'seq', 'type', 'source', 'subject', 'user', 'occurred_at', 'received_at', 'data_json', 'notify_json', 'api_key_id'],
  (db, v) => db.insertInto('events').values(v),
);
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
const insertIdempotency = precompiled<Insertable<IdempotencyKeysTable>>(
  ['api_key_id', 'key', 'fingerprint', 'event_id', 'status', 'response_json', 'seq'],
  (db, v) => db.insertInto('idempotency_keys').values(v),
);

/** Maps endpoint record fields to their columns (used by create and update alike). */
function endpointColumns(r: Partial<Omit<EndpointRecord, 'id' | 'channel'>>): Partial<EndpointsTable> {
  const cols: Partial<EndpointsTable> = {};
  if ('url' in r) cols.url = r.url ?? null;
  if ('to' in r) cols.to_json = json(r.to);
  if ('from' in r) cols.from_addr = r.from ?? null;
  if ('events' in r) cols.events_json = JSON.stringify(r.events);
  if ('users' in r) cols.users_json = json(r.users);
  if ('subject' in r) cols.subject = r.subject ?? null;
  if ('header_names' in r) cols.header_names_json = JSON.stringify(r.header_names ?? []);
  if ('headers_sealed' in r) cols.headers_sealed = r.headers_sealed ?? null;
  if ('smtp_url_sealed' in r) cols.smtp_url_sealed = r.smtp_url_sealed ?? null;
  if ('timeout_ms' in r && r.timeout_ms != null) cols.timeout_ms = r.timeout_ms;
  if ('retry' in r) cols.retry_json = json(r.retry);
  if ('template' in r) cols.template_json = json(r.template);
  if ('digest' in r) cols.digest_json = json(r.digest);
  if ('description' in r) cols.description = r.description ?? null;
  if ('enabled' in r && r.enabled != null) cols.enabled = r.enabled ? 1 : 0;
  return cols;
}

const projections: { [K in EntryKind]: Apply<K> } = {
  'api_key.created': async (db, { seq, at, body }) => {
    await db
      .insertInto('api_keys')
      .values({ id: body.id, name: body.name, role: body.role, key_hash: body.key_hash, key_prefix: body.key_prefix, created_at: at, revoked_at: null, seq })
      .execute();
  },

  'api_key.revoked': async (db, { at, body }) => {
    await db.updateTable('api_keys').set({ revoked_at: at }).where('id', '=', body.id).execute();
  },

  'endpoint.created': async (db, { seq, at, body }) => {
    const r = body.endpoint;
    await db
      .insertInto('endpoints')
      .values({
        id: r.id,
        seq,
        channel: r.channel,
        url: null,
        to_json: null,
        from_addr: null,
        events_json: '[]',
        users_json: null,
        subject: null,
        header_names_json: '[]',
        headers_sealed: null,
        smtp_url_sealed: null,
        timeout_ms: r.timeout_ms,
        retry_json: null,
        template_json: null,
        digest_json: null,
        description: null,
        enabled: r.enabled ? 1 : 0,
        disabled_reason: null,
        secret_sealed: body.secret_sealed,
        prev_secret_sealed: null,
        prev_secret_expires_at: null,
        failing_since: null,
        consecutive_dead: 0,
        created_at: at,
        updated_at: at,
        archived_at: null,
        ...endpointColumns(r),
      })
      .execute();
  },

  'endpoint.updated': async (db, { at, body }) => {
    await db.updateTable('endpoints').set({ ...endpointColumns(body.changes), updated_at: at }).where('id', '=', body.id).execute();
  },

  'endpoint.archived': async (db, { at, body }) => {
    await db.updateTable('endpoints').set({ archived_at: at, enabled: 0, updated_at: at }).where('id', '=', body.id).execute();
    // Archiving stops work in progress: what was still waiting for an attempt is cancelled.
    await db
      .updateTable('deliveries')
      .set({ status: 'cancelled', next_attempt_at: null, updated_at: at })
      .where('endpoint_id', '=', body.id)
      .where('status', 'in', ['pending', 'failed'])
      .execute();
  },

  'endpoint.enabled': async (db, { at, body }) => {
    await db
      .updateTable('endpoints')
      .set({ enabled: 1, disabled_reason: null, failing_since: null, consecutive_dead: 0, updated_at: at })
      .where('id', '=', body.id)
      .execute();
  },

  'endpoint.disabled': async (db, { at, body }) => {
    await db.updateTable('endpoints').set({ enabled: 0, disabled_reason: body.reason, updated_at: at }).where('id', '=', body.id).execute();
  },

  'endpoint.secret_rotated': async (db, { at, body }) => {
    const row = await db.selectFrom('endpoints').select('secret_sealed').where('id', '=', body.id).executeTakeFirstOrThrow();
    await db
      .updateTable('endpoints')
      .set({
        prev_secret_sealed: row.secret_sealed,
        prev_secret_expires_at: body.previous_expires_at,
        secret_sealed: body.secret_sealed,
        updated_at: at,
      })
      .where('id', '=', body.id)
      .execute();
  },

  'event.received': async (db, { seq, at, actor, body }) => {
    const ev = body.event;
    await insertEvent(db, {
      id: ev.id,
      seq,
      type: ev.type,
      source: ev.source,
      subject: ev.subject,
      user: ev.user,
      occurred_at: ev.occurred_at,
      received_at: ev.received_at,
      data_json: JSON.stringify(ev.data),
      notify_json: json(ev.notify),
      api_key_id: body.api_key_id,
    });
    if (body.deliveries.length > 0) {
      await db
        .insertInto('deliveries')
        .values(
          body.deliveries.map((d, idx) => ({
            id: d.id,
            seq,
            idx,
            event_id: ev.id,
            endpoint_id: d.endpoint_id,
            channel: d.channel,
            recipients_json: json(d.recipients),
            status: 'pending',
            next_attempt_at: d.next_attempt_at,
            attempts: 0,
            cycle_start: 0,
            next_trigger: 'initial',
            next_actor: actor,
            lease_until: null,
            last_outcome: null,
            created_at: at,
            updated_at: at,
            digest_id: null,
            digest_events_json: null,
          })),
        )
        .execute();
    }
    if (body.idempotency && body.api_key_id) {
      await insertIdempotency(db, {
        api_key_id: body.api_key_id,
        key: body.idempotency.key,
        fingerprint: body.idempotency.fingerprint,
        event_id: ev.id,
        status: 202,
        response_json: JSON.stringify(ingestAnswer(ev, body.deliveries)),
        seq,
      });
    }
  },

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

  'digest.created': async (db, { seq, at, actor, body }) => {
    await db
      .insertInto('deliveries')
      .values({
        id: body.delivery.id,
        seq,
        idx: 0,
        event_id: body.event_ids[body.event_ids.length - 1]!,
        endpoint_id: body.delivery.endpoint_id,
        channel: body.delivery.channel,
        recipients_json: null,
        status: 'pending',
        next_attempt_at: body.delivery.next_attempt_at,
        attempts: 0,
        cycle_start: 0,
        next_trigger: 'initial',
        next_actor: actor,
        lease_until: null,
        last_outcome: null,
        created_at: at,
        updated_at: at,
        digest_id: null,
        digest_events_json: JSON.stringify(body.event_ids),
      })
      .execute();
    await db.updateTable('deliveries').set({ digest_id: body.delivery.id, updated_at: at }).where('id', 'in', body.delivery_ids).execute();
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

/** Circuit-breaker inputs: since when every attempt has failed, and how many deliveries died in a row. */
async function trackEndpointHealth(db: Db, endpointId: string, succeeded: boolean, died: boolean, startedAt: string): Promise<void> {
  if (succeeded) {
    await db.updateTable('endpoints').set({ failing_since: null, consecutive_dead: 0 }).where('id', '=', endpointId).execute();
    return;
  }
  await db
    .updateTable('endpoints')
    .set((eb) => ({
      failing_since: eb.fn.coalesce('failing_since', eb.val(startedAt)),
      consecutive_dead: died ? eb('consecutive_dead', '+', 1) : eb.ref('consecutive_dead'),
    }))
    .where('id', '=', endpointId)
    .execute();
}

export async function applyEntry(db: Db, entry: LedgerEntry): Promise<void> {
  const fn = projections[entry.kind] as Apply<EntryKind>;
  await fn(db, entry);
}
