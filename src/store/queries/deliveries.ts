// Read model of deliveries and attempts, and the engine's questions: what is due, whose lease expired.
import type { Channel } from '../../domain/endpoint.js';
import type { DeliveryStatus, Trigger } from '../../domain/ledger-entry.js';
import type { Outcome } from '../../domain/retry-policy.js';
import { type SqlBool, sql } from 'kysely';
import type { Db } from '../database.js';
import type { AttemptsTable, DeliveriesTable } from '../schema.js';
import { precompiled } from '../precompiled.js';
import { type Page, decodeCursor, toPage } from './cursor.js';

/**
 * The scheduler's questions (what is due, in next_attempt_at order) read the partial index
 * deliveries_due. SQLite's planner, without statistics, preferred deliveries_by_status and sorted every
 * waiting delivery on each question (14 ms per query with 60,000 waiting), so the index is named
 * (INDEXED BY: an error, not a slow plan, if it ever cannot be used) and the status values are written
 * into the SQL, which is how SQLite sees that the index's WHERE holds.
 */
const dueIndexed = sql<DeliveriesTable>`deliveries`.as(sql`d indexed by deliveries_due` as unknown as 'd');
const waiting = (column: 'd.status') => sql<SqlBool>`${sql.ref(column)} in ('pending', 'failed')`;

export interface DeliveryRow {
  id: string;
  event_id: string;
  endpoint_id: string | null;
  channel: Channel;
  status: DeliveryStatus;
  next_attempt_at: string | null;
  attempts: number;
  cycle_start: number;
  next_trigger: Trigger;
  next_actor: string;
  lease_until: string | null;
  last_outcome: Outcome | null;
  recipients: string[] | null;
  created_at: string;
  updated_at: string;
  /** Held for a digest: the digest delivery that carries it. */
  digest_id: string | null;
  /** A digest delivery: the events it carries, oldest first. */
  digest_event_ids: string[] | null;
}

export interface AttemptView {
  n: number;
  started_at: string;
  finished_at: string | null;
  duration_ms: number | null;
  outcome: Outcome | null;
  status_code: number | null;
  response_body: string | null;
  error: string | null;
  trigger: Trigger;
  actor: string;
  request_headers: Record<string, string> | null;
  response_headers: Record<string, string> | null;
  remote_address: string | null;
}

function toDelivery(r: DeliveriesTable): DeliveryRow {
  return {
    id: r.id,
    event_id: r.event_id,
    endpoint_id: r.endpoint_id,
    channel: r.channel as Channel,
    status: r.status as DeliveryStatus,
    next_attempt_at: r.next_attempt_at,
    attempts: r.attempts,
    cycle_start: r.cycle_start,
    next_trigger: r.next_trigger as Trigger,
    next_actor: r.next_actor,
    lease_until: r.lease_until,
    last_outcome: r.last_outcome as Outcome | null,
    recipients: r.recipients_json == null ? null : (JSON.parse(r.recipients_json) as string[]),
    created_at: r.created_at,
    updated_at: r.updated_at,
    digest_id: r.digest_id,
    digest_event_ids: r.digest_events_json == null ? null : (JSON.parse(r.digest_events_json) as string[]),
  };
}

function toAttempt(r: AttemptsTable): AttemptView {
  const obj = (v: string | null) => (v == null ? null : (JSON.parse(v) as Record<string, string>));
  return {
    n: r.n,
    started_at: r.started_at,
    finished_at: r.finished_at,
    duration_ms: r.duration_ms,
    outcome: r.outcome as Outcome | null,
    status_code: r.status_code,
    response_body: r.response_body,
    error: r.error,
    trigger: r.trigger as Trigger,
    actor: r.actor,
    request_headers: obj(r.request_headers_json),
    response_headers: obj(r.response_headers_json),
    remote_address: r.remote_address,
  };
}

export interface DeliveryFilters {
  endpoint_id?: string | undefined;
  event_id?: string | undefined;
  status?: string | undefined;
  channel?: string | undefined;
  since?: string | undefined;
  until?: string | undefined;
  limit: number;
  cursor?: string | undefined;
}

export async function listDeliveries(db: Db, f: DeliveryFilters): Promise<Page<DeliveryRow>> {
  const after = decodeCursor(f.cursor);
  let q = db.selectFrom('deliveries').selectAll();
  if (f.endpoint_id) q = q.where('endpoint_id', '=', f.endpoint_id);
  if (f.event_id) q = q.where('event_id', '=', f.event_id);
  if (f.status) q = q.where('status', '=', f.status);
  if (f.channel) q = q.where('channel', '=', f.channel);
  if (f.since) q = q.where('created_at', '>=', f.since);
  if (f.until) q = q.where('created_at', '<', f.until);
  if (after) {
    const [seq, idx] = after;
    q = q.where((eb) => eb.or([eb('seq', '<', seq), eb.and([eb('seq', '=', seq), eb('idx', '<', idx)])]));
  }
  const rows = await q.orderBy('seq', 'desc').orderBy('idx', 'desc').limit(f.limit + 1).execute();
  return toPage(rows, f.limit, (r) => [r.seq, r.idx], toDelivery);
}

// Read twice for every attempt (its lease and its record): compiled once (see precompiled.ts).
const selectDelivery = precompiled<{ id: string }>(['id'], (db, v) => db.selectFrom('deliveries').selectAll().where('id', '=', v.id));

export async function getDelivery(db: Db, id: string): Promise<DeliveryRow | undefined> {
  const [row] = (await selectDelivery<DeliveriesTable>(db, { id })).rows;
  return row && toDelivery(row);
}

export async function deliveriesOfEvent(db: Db, eventId: string): Promise<DeliveryRow[]> {
  const rows = await db.selectFrom('deliveries').selectAll().where('event_id', '=', eventId).orderBy('idx').execute();
  return rows.map(toDelivery);
}

export async function attemptsOf(db: Db, deliveryId: string): Promise<AttemptView[]> {
  const rows = await db.selectFrom('attempts').selectAll().where('delivery_id', '=', deliveryId).orderBy('n').execute();
  return rows.map(toAttempt);
}

/** Deliveries whose next attempt is due, oldest first. Deliveries to a disabled endpoint wait (paused). */
export async function dueDeliveries(db: Db, now: string, limit: number, skipEndpoints: readonly string[]): Promise<DeliveryRow[]> {
  let q = db
    .selectFrom(dueIndexed)
    .leftJoin('endpoints as e', 'e.id', 'd.endpoint_id')
    .selectAll('d')
    .where(waiting('d.status'))
    .where('d.next_attempt_at', '<=', now)
    .where((eb) => eb.or([eb('d.endpoint_id', 'is', null), eb('e.enabled', '=', 1)]));
  if (skipEndpoints.length > 0) {
    q = q.where((eb) => eb.or([eb('d.endpoint_id', 'is', null), eb('d.endpoint_id', 'not in', skipEndpoints)]));
  }
  const rows = await q.orderBy('d.next_attempt_at').limit(limit).execute();
  return rows.map(toDelivery);
}

/** When the earliest waiting delivery (of an enabled endpoint) becomes due; null when nothing waits. */
export async function nextDueAt(db: Db): Promise<string | null> {
  const row = await db
    .selectFrom(dueIndexed)
    .leftJoin('endpoints as e', 'e.id', 'd.endpoint_id')
    .select('d.next_attempt_at')
    .where(waiting('d.status'))
    .where('d.next_attempt_at', 'is not', null)
    .where((eb) => eb.or([eb('d.endpoint_id', 'is', null), eb('e.enabled', '=', 1)]))
    .orderBy('d.next_attempt_at')
    .limit(1)
    .executeTakeFirst();
  return row?.next_attempt_at ?? null;
}

/** When the earliest lease runs out (null when nothing is in flight). */
export async function nextLeaseExpiry(db: Db): Promise<string | null> {
  const row = await db
    .selectFrom('deliveries')
    .select('lease_until')
    .where('status', '=', 'delivering')
    .orderBy('lease_until')
    .limit(1)
    .executeTakeFirst();
  return row?.lease_until ?? null;
}

export async function expiredLeases(db: Db, now: string, limit: number): Promise<DeliveryRow[]> {
  const rows = await db
    .selectFrom('deliveries')
    .selectAll()
    .where('status', '=', 'delivering')
    .where('lease_until', '<', now)
    .orderBy('lease_until')
    .limit(limit)
    .execute();
  return rows.map(toDelivery);
}

/** failed/dead deliveries of an endpoint created in [since, until), in creation order, after a position. */
export async function recoverableDeliveries(
  db: Db,
  endpointId: string,
  since: string,
  until: string,
  after: [number, number],
  limit: number,
): Promise<Array<DeliveryRow & { position: [number, number] }>> {
  const [seq, idx] = after;
  const rows = await db
    .selectFrom('deliveries')
    .selectAll()
    .where('endpoint_id', '=', endpointId)
    .where('status', 'in', ['failed', 'dead'])
    .where('created_at', '>=', since)
    .where('created_at', '<', until)
    .where((eb) => eb.or([eb('seq', '>', seq), eb.and([eb('seq', '=', seq), eb('idx', '>', idx)])]))
    .orderBy('seq')
    .orderBy('idx')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ ...toDelivery(r), position: [r.seq, r.idx] as [number, number] }));
}

/** Deliveries held for an endpoint's next digest, oldest first. */
export async function heldDeliveries(db: Db, endpointId: string, limit: number): Promise<DeliveryRow[]> {
  const rows = await db
    .selectFrom('deliveries')
    .selectAll()
    .where('endpoint_id', '=', endpointId)
    .where('status', '=', 'pending')
    .where('next_attempt_at', 'is', null)
    .where('digest_id', 'is', null)
    .orderBy('seq')
    .orderBy('idx')
    .limit(limit)
    .execute();
  return rows.map(toDelivery);
}

export interface QueueStats {
  waiting: number;
  delivering: number;
  oldest_due_at: string | null;
}

export async function queueStats(db: Db, now: string): Promise<QueueStats> {
  const counts = await db
    .selectFrom('deliveries')
    .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
    .where('status', 'in', ['pending', 'failed', 'delivering'])
    .groupBy('status')
    .execute();
  const oldest = await db
    .selectFrom(dueIndexed)
    .select('d.next_attempt_at')
    .where(waiting('d.status'))
    .where('d.next_attempt_at', '<=', now)
    .orderBy('d.next_attempt_at')
    .limit(1)
    .executeTakeFirst();
  const n = (s: string) => Number(counts.find((c) => c.status === s)?.n ?? 0);
  return { waiting: n('pending') + n('failed'), delivering: n('delivering'), oldest_due_at: oldest?.next_attempt_at ?? null };
}
