// Ingest: validate an event and fingerprint its body here, then record it (the idempotency check,
// matching to endpoints and the ledger entry) in one unit of work (ingest.ts).
import { canonicalJson, sha256Hex } from '../domain/canonical-json.js';
import { HeraldError, fieldErrors, problemTypeUri } from '../domain/errors.js';
import { type PostedEvent, postedEventSchema } from '../domain/event.js';
import { checkKey, parseIdempotencyKey } from '../domain/idempotency-key.js';
import type { EventFilters } from '../store/records.js';
import type { Principal, ServiceContext } from './context.js';
import { type IngestItem, type IngestOutcome, type IngestWork, ingestUnit, replayOf } from './ingest.js';
import { batched } from './batcher.js';
import { yieldToOthers } from './turns.js';

export interface IngestResult {
  status: number;
  body: unknown;
  replayed: boolean;
}

export interface BatchItemResult {
  idempotency_key: string | null;
  status: number;
  replayed?: boolean;
  event?: unknown;
  error?: { type: string; title: string; status: number; detail?: string; errors?: unknown };
}

/**
 * The event to record from its validated form and the body as JSON.parse made it: zod rebuilds a record
 * by assignment, which turns an own "__proto__" key into the object's prototype (the key would vanish
 * from the ledger, yet read through), so `data` is kept as sent.
 */
function asSent(event: PostedEvent, raw: unknown): IngestItem['event'] {
  const data = (raw as { data?: Record<string, unknown> }).data;
  return data === undefined ? event : { ...event, data };
}

/** A batch item: each is checked on its own, so a bad one fails alone. */
function validateItem(body: unknown): IngestItem['event'] {
  const parsed = postedEventSchema.safeParse(body);
  if (!parsed.success) throw new HeraldError('validation', 'the event is not valid', fieldErrors(parsed.error.issues));
  return asSent(parsed.data, body);
}

/** Batch items checked between two turns of the event loop. */
const YIELD_EVERY_ITEMS = 50;

/** Batch items recorded per unit of work. */
const BATCH_ITEMS_PER_UNIT = 100;

export class EventsService {
  /** Keys whose first request is still being committed: a second one answers 409. */
  private readonly inFlight = new Set<string>();

  constructor(private readonly ctx: ServiceContext) {}

  list(filters: EventFilters) {
    return this.ctx.store.read.events.listEvents(filters);
  }

  /** The events ingested with this idempotency key (by any API key), newest first. */
  idsByIdempotencyKey(key: string): Promise<string[]> {
    return this.ctx.store.read.events.eventIdsByIdempotencyKey(key);
  }

  /** One event with its deliveries. */
  async get(id: string) {
    const event = await this.ctx.store.read.events.getEvent(id);
    if (!event) throw new HeraldError('not_found', `no event ${id}`);
    const deliveries = await this.ctx.store.read.deliveries.deliveriesOfEvent(id);
    return {
      ...event,
      deliveries: deliveries.map((d) => ({ id: d.id, endpoint_id: d.endpoint_id, channel: d.channel, status: d.status, attempts: d.attempts, next_attempt_at: d.next_attempt_at })),
    };
  }

  private record(work: IngestWork[]): Promise<IngestOutcome[]> {
    return this.ctx.store.transact((tx) => ingestUnit(tx, this.ctx, work));
  }

  /** Single events that arrive together are recorded in one unit (one savepoint, not one each). */
  private readonly recordOne = batched((work: IngestWork[]) => this.record(work));

  /** One event, validated by the route; `raw` is the body as sent (its fingerprint identifies a retry). */
  async ingest(principal: Principal, keyHeader: string | undefined, event: PostedEvent, raw: unknown): Promise<IngestResult> {
    const key = parseIdempotencyKey(keyHeader);
    const item: IngestItem = { key, event: asSent(event, raw), fingerprint: sha256Hex(canonicalJson(raw)) };
    const slot = await this.claim(principal, item);
    if (typeof slot !== 'string') return slot;
    try {
      const outcome = await this.recordOne({ principal, item });
      if (!outcome.ok) throw new HeraldError(outcome.error.type, outcome.error.detail);
      this.count(outcome);
      return { status: outcome.status, body: outcome.body, replayed: outcome.replayed };
    } finally {
      this.inFlight.delete(slot);
    }
  }

  async ingestBatch(principal: Principal, items: unknown[]): Promise<{ results: BatchItemResult[] }> {
    const results: BatchItemResult[] = new Array(items.length);
    const todo: Array<{ i: number; item: IngestItem }> = [];
    const claimed: string[] = [];
    const seen = new Set<string>();
    try {
      for (const [i, raw] of items.entries()) {
        // Checking a large batch is a run of synchronous work: other requests and the deliveries'
        // answers get a turn every few items.
        if (i > 0 && i % YIELD_EVERY_ITEMS === 0) await yieldToOthers();
        const rawKey = raw && typeof raw === 'object' ? (raw as Record<string, unknown>).idempotency_key : undefined;
        try {
          const key = checkKey(rawKey);
          const { idempotency_key: _drop, ...body } = raw as Record<string, unknown>;
          const event = validateItem(body);
          this.checkSize(body);
          const item: IngestItem = { key, event, fingerprint: sha256Hex(canonicalJson(body)) };
          // A key repeated inside one batch is handled in order by the unit (a replay, or 422).
          if (!seen.has(key)) {
            const slot = await this.claim(principal, item);
            if (typeof slot !== 'string') {
              results[i] = { idempotency_key: key, status: slot.status, replayed: true, event: slot.body };
              continue;
            }
            claimed.push(slot);
          }
          seen.add(key);
          todo.push({ i, item });
        } catch (err) {
          results[i] = this.itemError(typeof rawKey === 'string' ? rawKey : null, err);
        }
      }
      // A chunk per transaction, one after the other: a large batch never holds the writer for long, so
      // the deliveries' leases and records keep getting their turn while it is recorded.
      for (let start = 0; start < todo.length; start += BATCH_ITEMS_PER_UNIT) {
        const chunk = todo.slice(start, start + BATCH_ITEMS_PER_UNIT);
        const outcomes = await this.record(chunk.map((t) => ({ principal, item: t.item })));
        outcomes.forEach((o, n) => {
          const { i, item } = chunk[n]!;
          if (o.ok) {
            this.count(o);
            results[i] = { idempotency_key: item.key, status: o.status, ...(o.replayed ? { replayed: true } : {}), event: o.body };
          } else {
            results[i] = this.itemError(item.key, new HeraldError(o.error.type, o.error.detail));
          }
        });
      }
    } finally {
      for (const slot of claimed) this.inFlight.delete(slot);
    }
    return { results };
  }

  private count(o: Extract<IngestOutcome, { ok: true }>): void {
    if (o.replayed) this.ctx.metrics.ingestReplays.inc();
    else this.ctx.metrics.eventsIngested.inc({ source: 'api' });
  }

  /**
   * Claims the key for this request (the unit checks inside its transaction whether it was recorded
   * before). While another request with the key is in flight, a key already recorded is answered
   * from the store (a replay, or 422 for another body) and a new one gets 409.
   */
  private async claim(principal: Principal, item: IngestItem): Promise<string | IngestResult> {
    const slot = `${principal.id}\u0000${item.key}`;
    if (this.inFlight.has(slot)) {
      const stored = await this.ctx.store.read.idempotency.findIdempotency(principal.id, item.key);
      if (stored) {
        this.ctx.metrics.ingestReplays.inc();
        return replayOf(stored, item.fingerprint);
      }
      throw new HeraldError('idempotency_key_in_use', 'a request with this Idempotency-Key is still being processed; retry shortly');
    }
    this.inFlight.add(slot);
    return slot;
  }

  private checkSize(body: unknown): void {
    if (Buffer.byteLength(JSON.stringify(body)) > this.ctx.config.HERALD_MAX_BODY_BYTES) {
      throw new HeraldError('payload_too_large', `an event may be at most ${this.ctx.config.HERALD_MAX_BODY_BYTES} bytes`);
    }
  }

  private itemError(key: string | null, err: unknown): BatchItemResult {
    if (!(err instanceof HeraldError)) throw err;
    const error = { type: problemTypeUri(err.type), title: err.title, status: err.status, detail: err.detail, ...(err.errors ? { errors: err.errors } : {}) };
    return { idempotency_key: key, status: err.status, error };
  }
}
