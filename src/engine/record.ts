// The unit of work that records finished attempts: one attempt.recorded entry each, and what follows
// from it: the next retry, a dead delivery's delivery.exhausted event, an endpoint disabled by a
// 410 Gone. Attempts that finish together are recorded in one unit (see services/batcher.ts).
import type { SendResult } from '../channels/channel.js';
import type { AttemptRecord } from '../domain/ledger-entry.js';
import type { RetryPolicy } from '../domain/retry-policy.js';
import { SYSTEM } from '../services/context.js';
import { autoDisableEndpoint } from '../services/endpoints.js';
import { type RecordingContext, emitHeraldEvent } from '../services/record-event.js';
import type { Delivery, DueDelivery, StoredEndpoint } from '../store/records.js';
import type { Tx } from '../store/store.js';
import { nextStep } from './outcome.js';

export interface FinishedAttempt {
  /** The delivery as leased: while its lease holds, nothing else changes it. */
  delivery: DueDelivery;
  n: number;
  endpoint: Pick<StoredEndpoint, 'id' | 'channel' | 'url' | 'retry'> | null;
  event: { id: string; type: string; subject: string | null } | null;
  started_at: string;
  finished_at: string;
  /** herald shut down during the attempt: it is recorded as interrupted and retried. */
  aborted: boolean;
  result: SendResult;
}

/** What recording an attempt came to, for the caller to log. */
export type RecordOutcome = { recorded: false } | { recorded: true; status: AttemptRecord['delivery_status']; disabled: string | null };

export async function recordAttempts(tx: Tx, ctx: RecordingContext, attempts: readonly FinishedAttempt[]): Promise<RecordOutcome[]> {
  const inFlight = await tx.attemptsInFlight(attempts.map((a) => a.delivery.id));
  const outcomes: RecordOutcome[] = [];
  for (const a of attempts) {
    // The lease was taken back meanwhile (it expired and was reaped): this result is not recorded.
    if (inFlight.get(a.delivery.id) !== a.n) {
      outcomes.push({ recorded: false });
      continue;
    }
    outcomes.push(await recordOne(tx, ctx, a.delivery, a));
  }
  return outcomes;
}

/** An attempt whose lease ran out without a result (its process stopped or crashed): interrupted, retried. */
export async function recordExpiredLease(tx: Tx, ctx: RecordingContext, d: Delivery, retry: RetryPolicy | null): Promise<void> {
  const now = tx.now().toISOString();
  await append(tx, ctx, d, retry, null, {
    started_at: d.updated_at,
    finished_at: now,
    result: { outcome: 'interrupted', status_code: null, error: `the attempt's lease expired at ${d.lease_until} without a result (herald stopped or crashed mid-attempt)`, request_headers: null, response_headers: null, response_body: null, remote_address: null },
  });
}

async function recordOne(tx: Tx, ctx: RecordingContext, d: DueDelivery, a: FinishedAttempt): Promise<RecordOutcome> {
  const result: SendResult = a.aborted
    ? { outcome: 'interrupted', status_code: null, error: 'herald shut down during the attempt', request_headers: null, response_headers: null, response_body: null, remote_address: null }
    : a.result;
  const status = await append(tx, ctx, d, a.endpoint?.retry ?? null, a.event, { started_at: a.started_at, finished_at: a.finished_at, result });
  let disabled: string | null = null;
  if (!a.aborted && result.status_code === 410 && a.endpoint && d.channel !== 'email') {
    const reason = 'the receiver answered 410 Gone';
    if (await autoDisableEndpoint(tx, ctx, a.endpoint, reason)) disabled = reason;
  }
  return { recorded: true, status, disabled };
}

/** Appends attempt.recorded for the delivery's attempt in flight; a dead delivery emits delivery.exhausted. */
async function append(
  tx: Tx,
  ctx: RecordingContext,
  d: DueDelivery,
  retry: RetryPolicy | null,
  event: FinishedAttempt['event'],
  a: { started_at: string; finished_at: string; result: SendResult },
): Promise<AttemptRecord['delivery_status']> {
  const { result } = a;
  const step = nextStep(result, retry, d.attempts - d.cycle_start, tx.now());
  const record: AttemptRecord = {
    delivery_id: d.id,
    n: d.attempts,
    trigger: d.next_trigger,
    actor: d.next_actor,
    started_at: a.started_at,
    finished_at: a.finished_at,
    duration_ms: Math.max(0, Date.parse(a.finished_at) - Date.parse(a.started_at)),
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
  await tx.append({ kind: 'attempt.recorded', stream: d.id, actor: SYSTEM.name, body: record });
  // A dead delivery emits delivery.exhausted (but a dead delivery.exhausted never emits another).
  const ev = event ?? (await tx.getEvent(d.event_id));
  if (step.status === 'dead' && ev && ev.type !== 'delivery.exhausted') {
    await emitHeraldEvent(tx, ctx, 'delivery.exhausted', ev.subject, {
      delivery_id: d.id,
      event_id: ev.id,
      event_type: ev.type,
      endpoint_id: d.endpoint_id,
      channel: d.channel,
      attempts: d.attempts,
      last_outcome: record.outcome,
      last_status_code: record.status_code,
      last_error: record.error,
    });
  }
  return step.status;
}
