// Recording an event inside a unit of work: match it to the active endpoints and append one
// event.received entry that carries the event and its deliveries. Used by ingest and by herald's own
// events (delivery.exhausted, endpoint.disabled, herald.*).
import type { EventRecord, IngestAnswer } from '../domain/event.js';
import { ingestAnswer } from '../domain/event.js';
import { newId } from '../domain/ids.js';
import { planDeliveries } from '../domain/matching.js';
import type { StoredEndpoint } from '../store/records.js';
import type { Tx } from '../store/store.js';
import type { EndpointCache } from './caches.js';
import { type Principal, SYSTEM } from './context.js';

/** What recording needs besides the transaction: the active endpoints, cached. */
export interface RecordingContext {
  endpoints: EndpointCache;
}

/** Records one event and its deliveries (inside a unit of work). */
export async function recordEvent(
  tx: Tx,
  ctx: RecordingContext,
  event: Omit<EventRecord, 'id' | 'received_at'> & { id?: string },
  actor: Principal,
  idempotency: { key: string; fingerprint: string } | null,
  /** Deliver to exactly these endpoints instead of matching (the endpoint test). */
  only?: ReadonlyArray<{ id: string; channel: StoredEndpoint['channel'] }>,
): Promise<IngestAnswer> {
  const now = tx.now();
  const record: EventRecord = { ...event, id: event.id ?? newId('evt', now.getTime()), received_at: now.toISOString() };
  const plans = only
    ? only.map((ep) => ({ endpoint_id: ep.id, channel: ep.channel, recipients: null, held: false }))
    : planDeliveries(record, await ctx.endpoints.get(() => tx.activeEndpoints()));
  const deliveries = plans.map(({ held, ...p }) => ({
    id: newId('msg', now.getTime()),
    ...p,
    next_attempt_at: held ? null : record.received_at,
  }));
  await tx.append({
    kind: 'event.received',
    stream: record.id,
    actor: actor.name,
    body: { event: record, api_key_id: actor.id === SYSTEM.id ? null : actor.id, idempotency, deliveries },
  });
  return ingestAnswer(record, deliveries);
}

/** Emits one of herald's own events (delivery.exhausted, endpoint.disabled, herald.*) inside a unit. */
export function emitHeraldEvent(
  tx: Tx,
  ctx: RecordingContext,
  type: string,
  subject: string | null,
  data: Record<string, unknown>,
): Promise<IngestAnswer> {
  return recordEvent(tx, ctx, { type, source: 'herald', subject, user: null, occurred_at: null, data, notify: null }, SYSTEM, null);
}
