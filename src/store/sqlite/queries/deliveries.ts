// Read model of deliveries and attempts, and the engine's questions: what is due, whose lease expired.
import type { Channel } from '../../../domain/endpoint.js';
import type { AttemptReport, DeliveryStatus, Trigger } from '../../../domain/ledger-entry.js';
import { typeFilterRange } from '../../../domain/matching.js';
import type { DeliveryMatch } from '../../../domain/requeue.js';
import type { Outcome } from '../../../domain/retry-policy.js';
import { type Expression, type ExpressionBuilder, type SqlBool, sql } from 'kysely';
import { decodeCursor, toPage } from '../../cursor.js';
import type { AttemptView, Delivery, DeliveryFilters, DueDelivery, FailedAttempt, Page, QueueStats } from '../../records.js';
import type { Db } from '../connection.js';
import type { AttemptsTable, Database, DeliveriesTable } from '../schema.js';

/**
 * The scheduler's questions read the partial indexes of waiting deliveries: deliveries_due (by due
 * time) and deliveries_due_by_endpoint (by endpoint, then due time). SQLite's planner, without
 * statistics, prefers other indexes and sorts every waiting delivery, so the index is named (INDEXED BY:
 * an error, not a slow plan, if it ever cannot be used) and the status values are written into the SQL,
 * which is how SQLite sees that the index's WHERE holds.
 */
const indexed = (index: 'deliveries_due' | 'deliveries_due_by_endpoint') =>
  sql<DeliveriesTable>`deliveries`.as(sql`d indexed by ${sql.raw(index)}` as unknown as 'd');
const waiting = sql<SqlBool>`d.status in ('pending', 'failed')`;

const iso = (d: Date) => d.toISOString();

/** A JSON list column (recipients, a digest's event ids). */
const stringList = (json: string | null) => (json == null ? null : (JSON.parse(json) as string[]));

function toDelivery(r: DeliveriesTable): Delivery {
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
    recipients: stringList(r.recipients_json),
    created_at: r.created_at,
    updated_at: r.updated_at,
    digest_id: r.digest_id,
    digest_event_ids: stringList(r.digest_events_json),
    event_type: r.event_type,
  };
}

/** An attempts row with the body of the ledger entry that recorded it (null while unfinished). */
type AttemptRow = AttemptsTable & { entry_body: string | null };

function toAttempt(r: AttemptRow): AttemptView {
  const details = r.entry_body == null ? null : (JSON.parse(r.entry_body) as Partial<AttemptReport>);
  return {
    n: r.n,
    started_at: r.started_at,
    finished_at: r.finished_at,
    duration_ms: r.duration_ms,
    outcome: r.outcome as Outcome | null,
    status_code: r.status_code,
    response_body: details?.response_body ?? null,
    error: r.error,
    trigger: r.trigger as Trigger,
    actor: r.actor,
    request_headers: details?.request_headers ?? null,
    response_headers: details?.response_headers ?? null,
    remote_address: details?.remote_address ?? null,
  };
}

/** Attempts with their entries' bodies, where the details are. */
const attemptsWithDetails = (db: Db) =>
  db.selectFrom('attempts as a').leftJoin('ledger as l', 'l.seq', 'a.entry_seq').selectAll('a').select('l.body as entry_body');

/**
 * The list's filters as one condition (the list and requeue share it, so what a requeue touches is what
 * the list shows). A type prefix (`job.*`) is a range of deliveries_by_type, not a LIKE, which SQLite
 * would not look up in the index.
 */
export function matches(eb: ExpressionBuilder<Database, 'deliveries'>, m: DeliveryMatch): Expression<SqlBool> {
  const all: Array<Expression<SqlBool>> = [];
  if (m.endpoint_id) all.push(eb('deliveries.endpoint_id', '=', m.endpoint_id));
  if (m.event_id) all.push(eb('deliveries.event_id', '=', m.event_id));
  if (m.status) all.push(eb('deliveries.status', '=', m.status));
  if (m.channel) all.push(eb('deliveries.channel', '=', m.channel));
  const type = m.type ? typeFilterRange(m.type) : null;
  if (type && 'exact' in type) all.push(eb('deliveries.event_type', '=', type.exact));
  if (type && 'above' in type) all.push(eb('deliveries.event_type', '>', type.above), eb('deliveries.event_type', '<', type.below));
  if (m.since) all.push(eb('deliveries.created_at', '>=', m.since));
  if (m.until) all.push(eb('deliveries.created_at', '<', m.until));
  return eb.and(all);
}

/** Most event types a prefix filter is split into (more: one range, which SQLite sorts). */
const MAX_PREFIX_TYPES = 100;

/**
 * The event types deliveries have under a prefix, in order: one index seek per type on deliveries_by_type
 * (a loose index scan), however many deliveries each has.
 */
async function typesBetween(db: Db, above: string, below: string): Promise<string[]> {
  const { rows } = await sql<{ v: string }>`
    WITH RECURSIVE t(v) AS (
      SELECT (SELECT min(event_type) FROM deliveries WHERE event_type > ${above} AND event_type < ${below})
      UNION ALL
      SELECT (SELECT min(event_type) FROM deliveries WHERE event_type > t.v AND event_type < ${below}) FROM t WHERE t.v IS NOT NULL
    )
    SELECT v FROM t WHERE v IS NOT NULL LIMIT ${MAX_PREFIX_TYPES + 1}`.execute(db);
  return rows.map((r) => r.v);
}

/**
 * The ledger positions that can hold deliveries created in [since, until): deliveries carry the position
 * of the entry that made them, and positions grow with time, so a time filter walks only its part of
 * the list. Taken over every minute on the far side of each bound, it stays right if the clock ever
 * stepped back. null: nothing can match.
 */
async function positionsBetween(db: Db, since: string | undefined, until: string | undefined): Promise<{ from: number; to: number } | null> {
  const from = since
    ? (await sql<{ s: number | null }>`SELECT min(first_seq) AS s FROM minute_positions WHERE minute >= ${since.slice(0, 16)}`.execute(db)).rows[0]?.s
    : 0;
  const to = until
    ? (await sql<{ s: number | null }>`SELECT max(last_seq) AS s FROM minute_positions WHERE minute <= ${until.slice(0, 16)}`.execute(db)).rows[0]?.s
    : Number.MAX_SAFE_INTEGER;
  return from == null || to == null ? null : { from, to };
}

export async function listDeliveries(db: Db, f: DeliveryFilters): Promise<Page<Delivery>> {
  const after = decodeCursor(f.cursor);
  const positions = f.since || f.until ? await positionsBetween(db, f.since, f.until) : { from: 0, to: Number.MAX_SAFE_INTEGER };
  if (!positions) return { data: [], next_cursor: null };
  const page = (m: DeliveryMatch) => {
    let q = db.selectFrom('deliveries').selectAll().where((eb) => matches(eb, m));
    if (positions.from > 0) q = q.where('seq', '>=', positions.from);
    if (positions.to < Number.MAX_SAFE_INTEGER) q = q.where('seq', '<=', positions.to);
    if (after) {
      const [seq, idx] = after;
      q = q.where((eb) => eb.or([eb('seq', '<', seq), eb.and([eb('seq', '=', seq), eb('idx', '<', idx)])]));
    }
    return q.orderBy('seq', 'desc').orderBy('idx', 'desc').limit(f.limit + 1);
  };
  const type = f.type ? typeFilterRange(f.type) : null;
  // A prefix is a range of deliveries_by_type, which SQLite (without statistics) reads whole and sorts
  // for a page: 0.5 s for 670,000 matches. A page per type it holds, newest first from the index, merged,
  // costs what an exact type costs.
  const types = type && 'above' in type ? await typesBetween(db, type.above, type.below) : null;
  if (types && types.length <= MAX_PREFIX_TYPES) {
    if (types.length === 0) return { data: [], next_cursor: null };
    const pages = types.map((t) => db.selectFrom(page({ ...f, type: t }).as('p')).selectAll());
    const merged = pages.slice(1).reduce((u, p) => u.unionAll(p), pages[0]!);
    const rows = await db.selectFrom(merged.as('m')).selectAll().orderBy('seq', 'desc').orderBy('idx', 'desc').limit(f.limit + 1).execute();
    return toPage(rows, f.limit, (r) => [r.seq, r.idx], toDelivery);
  }
  const rows = await page(f).execute();
  return toPage(rows, f.limit, (r) => [r.seq, r.idx], toDelivery);
}

// The engine's questions asked for every attempt are SQL text: kysely's builder cost more than SQLite
// took to answer them.

export async function getDelivery(db: Db, id: string): Promise<Delivery | undefined> {
  const { rows } = await sql<DeliveriesTable>`SELECT * FROM deliveries WHERE id = ${id}`.execute(db);
  return rows[0] && toDelivery(rows[0]);
}

export async function attemptsInFlight(db: Db, ids: readonly string[]): Promise<Map<string, number>> {
  if (ids.length === 0) return new Map();
  const { rows } = await sql<{ id: string; attempts: number }>`
    SELECT id, attempts FROM deliveries WHERE id IN (SELECT value FROM json_each(${JSON.stringify(ids)})) AND status = 'delivering'`.execute(db);
  return new Map(rows.map((r) => [r.id, r.attempts]));
}

export async function deliveriesOfEvent(db: Db, eventId: string): Promise<Delivery[]> {
  const rows = await db.selectFrom('deliveries').selectAll().where('event_id', '=', eventId).orderBy('idx').execute();
  return rows.map(toDelivery);
}

/**
 * Every attempt of a delivery, oldest first. An attempt in flight has no row until it is recorded; it
 * is shown from its lease (the delivery's row), unfinished.
 */
export async function attemptsOf(db: Db, deliveryId: string): Promise<AttemptView[]> {
  const rows = await attemptsWithDetails(db).where('a.delivery_id', '=', deliveryId).orderBy('a.n').execute();
  const attempts = rows.map(toAttempt);
  const d = await getDelivery(db, deliveryId);
  if (d?.status === 'delivering' && !attempts.some((a) => a.n === d.attempts)) {
    attempts.push({
      n: d.attempts,
      started_at: d.updated_at,
      finished_at: null,
      duration_ms: null,
      outcome: null,
      status_code: null,
      response_body: null,
      error: null,
      trigger: d.next_trigger,
      actor: d.next_actor,
      request_headers: null,
      response_headers: null,
      remote_address: null,
    });
  }
  return attempts;
}

export async function recentFailures(db: Db, endpointId: string, window: number, limit: number): Promise<FailedAttempt[]> {
  const recent = db
    .selectFrom('deliveries')
    .select(['id', 'seq', 'idx'])
    .where('endpoint_id', '=', endpointId)
    .orderBy('seq', 'desc')
    .orderBy('idx', 'desc')
    .limit(window)
    .as('d');
  const rows = await db
    .selectFrom(recent)
    .innerJoin('attempts as a', 'a.delivery_id', 'd.id')
    .leftJoin('ledger as l', 'l.seq', 'a.entry_seq')
    .selectAll('a')
    .select('l.body as entry_body')
    .where('a.outcome', 'not in', ['succeeded', 'interrupted'])
    .where('a.outcome', 'is not', null)
    .orderBy('a.finished_at', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ ...toAttempt(r), delivery_id: r.delivery_id }));
}

/**
 * Waiting deliveries of one endpoint (null: ad-hoc recipients) due at `now`, oldest first: only the columns
 * an attempt needs (reading whole rows cost twice as much per row).
 */
export async function dueDeliveries(db: Db, endpointId: string | null, now: Date, limit: number): Promise<DueDelivery[]> {
  // Rows due at the same time go in the order they were recorded (rowid).
  const { rows } = await sql<DueRow>`
    SELECT d.id, d.event_id, d.endpoint_id, d.channel, d.attempts, d.cycle_start, d.next_trigger, d.next_actor, d.recipients_json, d.digest_events_json
    FROM deliveries AS d INDEXED BY deliveries_due_by_endpoint
    WHERE d.endpoint_id IS ${endpointId} AND d.status IN ('pending', 'failed') AND d.next_attempt_at <= ${iso(now)}
    ORDER BY d.next_attempt_at, d.rowid LIMIT ${limit}`.execute(db);
  return rows.map((r) => ({
    id: r.id,
    event_id: r.event_id,
    endpoint_id: r.endpoint_id,
    channel: r.channel as Channel,
    attempts: r.attempts,
    cycle_start: r.cycle_start,
    next_trigger: r.next_trigger as Trigger,
    next_actor: r.next_actor,
    recipients: stringList(r.recipients_json),
    digest_event_ids: stringList(r.digest_events_json),
  }));
}

type DueRow = Pick<
  DeliveriesTable,
  'id' | 'event_id' | 'endpoint_id' | 'channel' | 'attempts' | 'cycle_start' | 'next_trigger' | 'next_actor' | 'recipients_json' | 'digest_events_json'
>;

/** The endpoints with waiting deliveries that came due in (after, upTo]: each row is read once, as it comes due. */
export async function endpointsDueBetween(db: Db, after: Date | null, upTo: Date): Promise<Array<string | null>> {
  let q = db.selectFrom(indexed('deliveries_due')).select('d.endpoint_id').distinct().where(waiting).where('d.next_attempt_at', '<=', iso(upTo));
  if (after) q = q.where('d.next_attempt_at', '>', iso(after));
  return (await q.execute()).map((r) => r.endpoint_id);
}

export async function nextDueAfter(db: Db, after: Date): Promise<Date | null> {
  const row = await db
    .selectFrom(indexed('deliveries_due'))
    .select('d.next_attempt_at')
    .where(waiting)
    .where('d.next_attempt_at', '>', iso(after))
    .orderBy('d.next_attempt_at')
    .limit(1)
    .executeTakeFirst();
  return row?.next_attempt_at ? new Date(row.next_attempt_at) : null;
}

export async function expiredLeases(db: Db, now: Date, limit: number): Promise<Delivery[]> {
  const rows = await db
    .selectFrom('deliveries')
    .selectAll()
    .where('status', '=', 'delivering')
    .where('lease_until', '<', iso(now))
    .orderBy('lease_until')
    .limit(limit)
    .execute();
  return rows.map(toDelivery);
}

/** Deliveries held for an endpoint's next digest, oldest first. */
export async function heldDeliveries(db: Db, endpointId: string, limit: number): Promise<Delivery[]> {
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

export async function queueStats(db: Db, now: Date, countUpTo?: number): Promise<QueueStats> {
  // Each status counted on its own, stopping at the cap (LIMIT -1: no cap): a large backlog is a long walk.
  const count = async (status: string) => {
    const { rows } = await sql<{ n: number }>`SELECT count(*) AS n FROM (SELECT 1 FROM deliveries WHERE status = ${status} LIMIT ${countUpTo ?? -1})`.execute(db);
    return Number(rows[0]?.n ?? 0);
  };
  const due = (await count('pending')) + (await count('failed'));
  const oldest = await db
    .selectFrom(indexed('deliveries_due'))
    .select('d.next_attempt_at')
    .where(waiting)
    .where('d.next_attempt_at', '<=', iso(now))
    .orderBy('d.next_attempt_at')
    .limit(1)
    .executeTakeFirst();
  const capped = countUpTo !== undefined && due >= countUpTo;
  return { waiting: capped ? countUpTo : due, waiting_capped: capped, delivering: await count('delivering'), oldest_due_at: oldest?.next_attempt_at ?? null };
}
