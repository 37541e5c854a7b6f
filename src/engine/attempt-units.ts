// The units of work of an attempt: its lease (attempt.started) and its record (attempt.finished or
// attempt.interrupted, and what follows: the next retry, a dead delivery's delivery.exhausted, an
// endpoint disabled by a 410 Gone). Plain data in and out, so they can run on the writer thread
// (see store/threaded-writer.ts) in the same group commits as ingest, or inline on the main writer.
import type { SendResult } from '../channels/channel.js';
import { DEFAULT_TIMEOUT_MS } from '../domain/endpoint.js';
import type { EventRecord } from '../domain/event.js';
import type { AttemptReport } from '../domain/ledger-entry.js';
import { SYSTEM } from '../services/context.js';
import { autoDisableEndpoint } from '../services/endpoints.js';
import { type RecordingContext, emitHeraldEvent } from '../services/record-event.js';
import type { DeliveryRow } from '../store/queries/deliveries.js';
import type { StoredEndpoint } from '../store/queries/endpoints.js';
import type { WriteTx } from '../store/write-tx.js';
import { nextStep } from './outcome.js';
import type { Leased } from './scheduler.js';

/**
 * Leases the deliveries that are still due and whose endpoint is still active (checked inside the
 * transaction, as the scheduler's rows may be a little old): one attempt.started each. The endpoint
 * comes from the active-endpoints cache, which every endpoint change drops (in both threads) before
 * the next unit runs.
 */
export async function leaseUnit(tx: WriteTx, ctx: RecordingContext, deliveryIds: string[], leaseMarginMs: number): Promise<Leased[]> {
  const now = tx.now();
  const nowIso = now.toISOString();
  const leased: Leased[] = [];
  for (const id of deliveryIds) {
    const d = await tx.getDelivery(id);
    if (!d || (d.status !== 'pending' && d.status !== 'failed') || !d.next_attempt_at || d.next_attempt_at > nowIso) continue;
    let endpoint: StoredEndpoint | undefined;
    if (d.endpoint_id) {
      endpoint = await ctx.endpoints.getActive(d.endpoint_id, () => tx.activeEndpoints());
      // Deliveries to a disabled (or archived, or missing) endpoint wait, as in the due query.
      if (!endpoint) continue;
    }
    const timeout = endpoint?.timeout_ms ?? DEFAULT_TIMEOUT_MS;
    const leaseUntil = new Date(now.getTime() + timeout + leaseMarginMs).toISOString();
    const n = d.attempts + 1;
    await tx.append({
      kind: 'attempt.started',
      stream: d.id,
      actor: d.next_actor,
      body: { delivery_id: d.id, n, trigger: d.next_trigger, lease_until: leaseUntil },
    });
    leased.push({ delivery: d, n, leaseUntil, endpoint: endpoint ?? null });
  }
  return leased;
}

export interface FinishedAttempt {
  delivery: Pick<DeliveryRow, 'id' | 'endpoint_id' | 'channel' | 'event_id'>;
  n: number;
  endpoint: Pick<StoredEndpoint, 'id' | 'channel' | 'url' | 'retry'> | null;
  event: Pick<EventRecord, 'id' | 'type' | 'subject'> | null;
  started_at: string;
  finished_at: string;
  /** Herald shut down during the attempt: it is recorded as interrupted and retried. */
  aborted: boolean;
  result: SendResult;
}

/** What recording the attempt came to, for the caller to log. */
export type FinishOutcome = { recorded: false } | { recorded: true; status: AttemptReport['delivery_status']; disabled: string | null };

/**
 * Records a finished attempt and, in the same transaction, leases the deliveries its slot takes next
 * (the scheduler hands them over), so a busy slot costs one round trip to the writer per attempt.
 */
export async function finishAndLeaseUnit(
  tx: WriteTx,
  ctx: RecordingContext,
  attempt: FinishedAttempt,
  nextIds: string[],
  leaseMarginMs: number,
): Promise<{ outcome: FinishOutcome; leased: Leased[] }> {
  const outcome = await finishUnit(tx, ctx, attempt);
  const leased = nextIds.length > 0 ? await leaseUnit(tx, ctx, nextIds, leaseMarginMs) : [];
  return { outcome, leased };
}

async function finishUnit(tx: WriteTx, ctx: RecordingContext, a: FinishedAttempt): Promise<FinishOutcome> {
  const { delivery: d, n, endpoint, result } = a;
  const current = await tx.getDelivery(d.id);
  // The lease was taken back meanwhile (reaped after expiring): its result is not recorded.
  if (!current || current.status !== 'delivering' || current.attempts !== n) return { recorded: false };
  const now = tx.now();
  const inCycle = n - current.cycle_start;
  if (a.aborted) {
    const step = nextStep({ outcome: 'interrupted' }, endpoint?.retry ?? null, inCycle, now);
    const status = step.status === 'dead' ? 'dead' : 'failed';
    await tx.append({
      kind: 'attempt.interrupted',
      stream: d.id,
      actor: SYSTEM.name,
      body: { delivery_id: d.id, n, reason: 'herald shut down during the attempt', delivery_status: status, next_attempt_at: step.next_attempt_at },
    });
    return { recorded: true, status, disabled: null };
  }
  const step = nextStep(result, endpoint?.retry ?? null, inCycle, now);
  const report: AttemptReport = {
    delivery_id: d.id,
    n,
    started_at: a.started_at,
    finished_at: a.finished_at,
    duration_ms: Date.parse(a.finished_at) - Date.parse(a.started_at),
    outcome: result.outcome,
    status_code: result.status_code,
    error: result.error,
    request_headers: result.request_headers,
    response_headers: result.response_headers,
    response_body: result.response_body,
    remote_address: result.remote_address,
    delivery_status: step.status,
    next_attempt_at: step.next_attempt_at,
  };
  await tx.append({ kind: 'attempt.finished', stream: d.id, actor: SYSTEM.name, body: report });
  // A dead delivery emits delivery.exhausted (but a dead delivery.exhausted never emits another).
  if (step.status === 'dead' && a.event && a.event.type !== 'delivery.exhausted') {
    await emitHeraldEvent(tx, ctx, 'delivery.exhausted', a.event.subject, {
      delivery_id: d.id,
      event_id: a.event.id,
      event_type: a.event.type,
      endpoint_id: d.endpoint_id,
      channel: d.channel,
      attempts: n,
      last_outcome: report.outcome,
      last_status_code: report.status_code,
      last_error: report.error,
    });
  }
  let disabled: string | null = null;
  if (result.status_code === 410 && endpoint && d.channel !== 'email') {
    const reason = 'the receiver answered 410 Gone';
    if (await autoDisableEndpoint(tx, ctx, endpoint, reason)) disabled = reason;
  }
  return { recorded: true, status: step.status, disabled };
}
