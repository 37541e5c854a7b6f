// Read model of endpoints: the stored record plus its live state (enabled, secrets, health).
import type { Channel } from '../../../domain/endpoint.js';
import { decodeCursor, toPage } from '../../cursor.js';
import type { EndpointFilters, Page, StoredEndpoint } from '../../records.js';
import type { Db } from '../connection.js';
import type { EndpointsTable } from '../schema.js';

const parse = <T>(v: string | null): T | null => (v == null ? null : (JSON.parse(v) as T));

export function toStoredEndpoint(r: EndpointsTable): StoredEndpoint {
  return {
    id: r.id,
    seq: r.seq,
    channel: r.channel as Channel,
    url: r.url,
    to: parse(r.to_json),
    from: r.from_addr,
    events: JSON.parse(r.events_json) as string[],
    users: parse(r.users_json),
    subject: r.subject,
    header_names: JSON.parse(r.header_names_json) as string[],
    headers_sealed: r.headers_sealed,
    smtp_url_sealed: r.smtp_url_sealed,
    timeout_ms: r.timeout_ms,
    retry: parse(r.retry_json),
    template: parse(r.template_json),
    digest: parse(r.digest_json),
    rate_limit: parse(r.rate_limit_json),
    description: r.description,
    enabled: r.enabled === 1,
    disabled_reason: r.disabled_reason,
    secret_sealed: r.secret_sealed,
    prev_secret_sealed: r.prev_secret_sealed,
    prev_secret_expires_at: r.prev_secret_expires_at,
    failing_since: r.failing_since,
    consecutive_dead: Number(r.consecutive_dead),
    created_at: r.created_at,
    updated_at: r.updated_at,
    archived_at: r.archived_at,
  };
}

export async function getEndpoint(db: Db, id: string): Promise<StoredEndpoint | undefined> {
  const row = await db.selectFrom('endpoints').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toStoredEndpoint(row as EndpointsTable);
}

/** Every endpoint that can receive new deliveries (enabled and not archived). */
export async function activeEndpoints(db: Db): Promise<StoredEndpoint[]> {
  const rows = await db.selectFrom('endpoints').selectAll().where('enabled', '=', 1).where('archived_at', 'is', null).orderBy('seq').execute();
  return rows.map((r) => toStoredEndpoint(r as EndpointsTable));
}

export async function listEndpoints(db: Db, f: EndpointFilters): Promise<Page<StoredEndpoint>> {
  const after = decodeCursor(f.cursor);
  let q = db.selectFrom('endpoints').selectAll();
  if (f.channel) q = q.where('channel', '=', f.channel);
  if (!f.include_archived) q = q.where('archived_at', 'is', null);
  if (after) q = q.where('seq', '<', after[0]);
  const rows = await q.orderBy('seq', 'desc').limit(f.limit + 1).execute();
  return toPage(rows as EndpointsTable[], f.limit, (r) => [r.seq, 0], toStoredEndpoint);
}

/** Endpoints that the circuit breaker should look at: enabled, and failing for a while or dying in a row. */
export async function failingEndpoints(db: Db, failingSince: Date, consecutiveDead: number): Promise<StoredEndpoint[]> {
  const rows = await db
    .selectFrom('endpoints')
    .selectAll()
    .where('enabled', '=', 1)
    .where('archived_at', 'is', null)
    .where((eb) => eb.or([eb('failing_since', '<=', failingSince.toISOString()), eb('consecutive_dead', '>=', consecutiveDead)]))
    .execute();
  return rows.map((r) => toStoredEndpoint(r as EndpointsTable));
}

export async function troubledEndpoints(db: Db, limit: number): Promise<StoredEndpoint[]> {
  const rows = await db
    .selectFrom('endpoints')
    .selectAll()
    .where('archived_at', 'is', null)
    .where((eb) => eb.or([eb('enabled', '=', 0), eb('failing_since', 'is not', null), eb('consecutive_dead', '>', 0)]))
    .orderBy('seq')
    .limit(limit)
    .execute();
  return rows.map((r) => toStoredEndpoint(r as EndpointsTable));
}

export async function hasSealedValues(db: Db): Promise<boolean> {
  const row = await db
    .selectFrom('endpoints')
    .select('id')
    .where((eb) => eb.or([eb('secret_sealed', 'is not', null), eb('headers_sealed', 'is not', null), eb('smtp_url_sealed', 'is not', null)]))
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}
