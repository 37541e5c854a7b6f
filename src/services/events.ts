// Ingest: validate an event, deduplicate it by idempotency key, match it to endpoints and record it
// with its deliveries in one ledger entry. Also how herald emits its own events.
import { canonicalJson, sha256Hex } from '../domain/canonical-json.js';
import { HeraldError, fieldErrors, problemTypeUri } from '../domain/errors.js';
import { type EventRecord, type IngestAnswer, ingestAnswer, postedEventSchema, toEventRecord } from '../domain/event.js';
import { checkKey, parseIdempotencyKey } from '../domain/idempotency-key.js';
import { newId } from '../domain/ids.js';
import { planDeliveries } from '../domain/matching.js';
import type { StoredEndpoint } from '../store/queries/endpoints.js';
import type { StoredIdempotency } from '../store/queries/idempotency.js';
import type { WriteTx } from '../store/write-tx.js';
import { type Principal, SYSTEM, type ServiceContext } from './context.js';

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

interface Prepared {
  key: string;
  fingerprint: string;
  event: ReturnType<typeof postedEventSchema.parse>;
}

function validate(body: unknown): Prepared['event'] {
  const parsed = postedEventSchema.safeParse(body);
  if (!parsed.success) throw new HeraldError('validation', 'the event is not valid', fieldErrors(parsed.error.issues));
  // zod rebuilds a record by assignment, which turns an own "__proto__" key into the object's
  // prototype (the key vanishes from the ledger, yet reads through). Keep `data` as JSON.parse made it.
  const data = (body as { data?: Record<string, unknown> }).data;
  return data === undefined ? parsed.data : { ...parsed.data, data };
}

function replayOf(stored: StoredIdempotency, fingerprint: string): IngestResult {
  if (stored.fingerprint !== fingerprint) {
    throw new HeraldError('idempotency_key_reused', 'this Idempotency-Key was already used with a different body; use a new key for a new event');
  }
  return { status: stored.status, body: JSON.parse(stored.response_json), replayed: true };
}

/** Records one event and its deliveries (inside a unit of work). */
export async function recordEvent(
  tx: WriteTx,
  ctx: ServiceContext,
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
    body: { event: record, api_key_id: actor === SYSTEM ? null : actor.id, idempotency, deliveries },
  });
  return ingestAnswer(record, deliveries);
}

/** Emits one of herald's own events (delivery.exhausted, endpoint.disabled, herald.*) inside a unit. */
export function emitHeraldEvent(
  tx: WriteTx,
  ctx: ServiceContext,
  type: string,
  subject: string | null,
  data: Record<string, unknown>,
): Promise<IngestAnswer> {
  return recordEvent(tx, ctx, { type, source: 'herald', subject, user: null, occurred_at: null, data, notify: null }, SYSTEM, null);
}

export class EventsService {
  /** Keys whose first request is still being committed: a second one answers 409. */
  private readonly inFlight = new Set<string>();

  constructor(private readonly ctx: ServiceContext) {}

  async ingest(principal: Principal, keyHeader: string | undefined, body: unknown): Promise<IngestResult> {
    const key = parseIdempotencyKey(keyHeader);
    const event = validate(body);
    const prepared: Prepared = { key, event, fingerprint: sha256Hex(canonicalJson(body)) };
    const stored = await this.ctx.store.read.idempotency.findIdempotency(principal.id, key);
    if (stored) return this.replay(stored, prepared.fingerprint);
    const slot = this.claim(principal, key);
    try {
      return await this.ctx.store.write((tx) => this.recordOnce(tx, principal, prepared));
    } finally {
      this.inFlight.delete(slot);
    }
  }

  async ingestBatch(principal: Principal, items: unknown[]): Promise<{ results: BatchItemResult[] }> {
    const results: BatchItemResult[] = new Array(items.length);
    const todo: Array<{ i: number; p: Prepared }> = [];
    const claimed: string[] = [];
    const seen = new Set<string>();
    try {
      for (const [i, item] of items.entries()) {
        const rawKey = item && typeof item === 'object' ? (item as Record<string, unknown>).idempotency_key : undefined;
        try {
          const key = checkKey(rawKey);
          const { idempotency_key: _drop, ...body } = item as Record<string, unknown>;
          const event = validate(body);
          this.checkSize(body);
          const p: Prepared = { key, event, fingerprint: sha256Hex(canonicalJson(body)) };
          const stored = await this.ctx.store.read.idempotency.findIdempotency(principal.id, key);
          if (stored) {
            results[i] = this.itemResult(key, this.replay(stored, p.fingerprint));
            continue;
          }
          // A key repeated inside one batch is handled in order by the unit below (a replay, or 422).
          if (!seen.has(key)) claimed.push(this.claim(principal, key));
          seen.add(key);
          todo.push({ i, p });
        } catch (err) {
          results[i] = this.itemError(typeof rawKey === 'string' ? rawKey : null, err);
        }
      }
      if (todo.length > 0) {
        await this.ctx.store.write(async (tx) => {
          for (const { i, p } of todo) {
            try {
              results[i] = this.itemResult(p.key, await this.recordOnce(tx, principal, p));
            } catch (err) {
              if (!(err instanceof HeraldError)) throw err;
              results[i] = this.itemError(p.key, err);
            }
          }
        });
      }
    } finally {
      for (const slot of claimed) this.inFlight.delete(slot);
    }
    return { results };
  }

  /** Inside the transaction: the key may have been used since the fast check (another process, or earlier in this batch). */
  private async recordOnce(tx: WriteTx, principal: Principal, p: Prepared): Promise<IngestResult> {
    const stored = await tx.findIdempotency(principal.id, p.key);
    if (stored) return replayOf(stored, p.fingerprint);
    const e = p.event;
    const answer = await recordEvent(
      tx,
      this.ctx,
      {
        type: e.type,
        source: e.source ?? null,
        subject: e.subject ?? null,
        user: e.user ?? null,
        occurred_at: e.occurred_at ? new Date(e.occurred_at).toISOString() : null,
        data: e.data ?? {},
        notify: e.notify ?? null,
      },
      principal,
      { key: p.key, fingerprint: p.fingerprint },
    );
    tx.afterCommit(() => this.ctx.metrics.eventsIngested.inc({ source: 'api' }));
    return { status: 202, body: answer, replayed: false };
  }

  private replay(stored: StoredIdempotency, fingerprint: string): IngestResult {
    const r = replayOf(stored, fingerprint);
    this.ctx.metrics.ingestReplays.inc();
    return r;
  }

  private claim(principal: Principal, key: string): string {
    const slot = `${principal.id}\u0000${key}`;
    if (this.inFlight.has(slot)) {
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

  private itemResult(key: string, r: IngestResult): BatchItemResult {
    return { idempotency_key: key, status: r.status, ...(r.replayed ? { replayed: true } : {}), event: r.body };
  }

  private itemError(key: string | null, err: unknown): BatchItemResult {
    if (!(err instanceof HeraldError)) throw err;
    const error = { type: problemTypeUri(err.type), title: err.title, status: err.status, detail: err.detail, ...(err.errors ? { errors: err.errors } : {}) };
    return { idempotency_key: key, status: err.status, error };
  }
}
