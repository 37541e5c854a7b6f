// Read model of events: filters and keyset pagination (newest first), one event with its deliveries.
import { sql } from 'kysely';
import type { EventRecord } from '../../../domain/event.js';
import { decodeCursor, toPage } from '../../cursor.js';
import type { EventFilters, Page } from '../../records.js';
import type { Db } from '../connection.js';
import type { EventsTable } from '../schema.js';

function toEvent(r: EventsTable): EventRecord {
  return {
    id: r.id,
    type: r.type,
    source: r.source,
    subject: r.subject,
    user: r.user,
    occurred_at: r.occurred_at,
    received_at: r.received_at,
    data: JSON.parse(r.data_json) as Record<string, unknown>,
    notify: r.notify_json == null ? null : (JSON.parse(r.notify_json) as EventRecord['notify']),
  };
}

export async function listEvents(db: Db, f: EventFilters): Promise<Page<EventRecord>> {
  const after = decodeCursor(f.cursor);
  let q = db.selectFrom('events').selectAll();
  if (f.type) q = q.where('type', '=', f.type);
  if (f.subject) q = q.where('subject', '=', f.subject);
  if (f.user) q = q.where('user', '=', f.user);
  if (f.since) q = q.where('received_at', '>=', f.since);
  if (f.until) q = q.where('received_at', '<', f.until);
  if (after) q = q.where('seq', '<', after[0]);
  const rows = await q.orderBy('seq', 'desc').limit(f.limit + 1).execute();
  return toPage(rows, f.limit, (r) => [r.seq, 0], toEvent);
}

export async function eventsByIds(db: Db, ids: readonly string[]): Promise<EventRecord[]> {
  if (ids.length === 0) return [];
  // One statement text whatever the number of ids (the prepared-statement cache keeps one).
  const rows = await db
    .selectFrom('events')
    .selectAll()
    .where('id', 'in', sql<string>`(select value from json_each(${JSON.stringify(ids)}))`)
    .orderBy('seq')
    .execute();
  return rows.map(toEvent);
}

export async function getEvent(db: Db, id: string): Promise<EventRecord | undefined> {
  const row = await db.selectFrom('events').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toEvent(row);
}
