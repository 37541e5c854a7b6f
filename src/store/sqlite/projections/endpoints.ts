// Projections of endpoint.* entries into the endpoints table, and the endpoint health counters
// (circuit-breaker inputs) that attempt outcomes update.
import type { EndpointRecord } from '../../../domain/endpoint.js';
import { sql } from 'kysely';
import type { Db } from '../connection.js';
import type { EndpointsTable } from '../schema.js';
import { json, type Projections } from './shared.js';

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
  if ('rate_limit' in r) cols.rate_limit_json = json(r.rate_limit);
  if ('description' in r) cols.description = r.description ?? null;
  if ('enabled' in r && r.enabled != null) cols.enabled = r.enabled ? 1 : 0;
  return cols;
}

export const endpointProjections: Projections<
  'endpoint.created' | 'endpoint.updated' | 'endpoint.archived' | 'endpoint.enabled' | 'endpoint.disabled' | 'endpoint.secret_rotated'
> = {
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
        rate_limit_json: null,
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

  'endpoint.enabled': async (db, { at, body }, tally) => {
    tally.healthReset(body.id);
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
};
