// The unit of work that records ingested events: for each item, the idempotency check inside the
// transaction (a replay, or a 422 for the same key with another body), then the event and its
// deliveries.
import { HeraldError } from '../domain/errors.js';
import { type PostedEvent, postedEventFields } from '../domain/event.js';
import type { StoredIdempotency } from '../store/records.js';
import type { Tx } from '../store/store.js';
import type { Principal } from './context.js';
import { type RecordingContext, recordEvent } from './record-event.js';

export interface IngestItem {
  key: string;
  /** SHA-256 of the canonical JSON of the request body (without a batch item's idempotency_key). */
  fingerprint: string;
  event: PostedEvent;
}

/** What one item came to: recorded or replayed (`status`, `body`), or a problem of its own. */
export type IngestOutcome =
  | { ok: true; status: number; body: unknown; replayed: boolean }
  | { ok: false; error: { type: HeraldError['type']; detail?: string | undefined } };

/** An item and the API key that sent it. */
export interface IngestWork {
  principal: Principal;
  item: IngestItem;
}

/**
 * Records the items in order (one batch's, or single requests that arrived together); a key repeated
 * among them is a replay of (or a 422 against) the first. An item's own problem is its outcome; only a
 * storage failure fails the unit.
 */
export async function ingestUnit(tx: Tx, ctx: RecordingContext, work: readonly IngestWork[]): Promise<IngestOutcome[]> {
  const outcomes: IngestOutcome[] = [];
  for (const { principal, item } of work) {
    try {
      outcomes.push(await recordOnce(tx, ctx, principal, item));
    } catch (err) {
      if (!(err instanceof HeraldError)) throw err;
      outcomes.push({ ok: false, error: { type: err.type, detail: err.detail } });
    }
  }
  return outcomes;
}

/** The stored answer of a key used before (a replay), or a 422 when it came with another body. */
export function replayOf(stored: StoredIdempotency, fingerprint: string): { status: number; body: unknown; replayed: true } {
  if (stored.fingerprint !== fingerprint) {
    throw new HeraldError('idempotency_key_reused', 'this Idempotency-Key was already used with a different body; use a new key for a new event');
  }
  return { status: stored.status, body: JSON.parse(stored.response_json), replayed: true };
}

async function recordOnce(tx: Tx, ctx: RecordingContext, principal: Principal, item: IngestItem): Promise<IngestOutcome> {
  const stored = await tx.findIdempotency(principal.id, item.key);
  if (stored) return { ok: true, ...replayOf(stored, item.fingerprint) };
  const answer = await recordEvent(tx, ctx, postedEventFields(item.event), principal, { key: item.key, fingerprint: item.fingerprint });
  return { ok: true, status: 202, body: answer, replayed: false };
}
