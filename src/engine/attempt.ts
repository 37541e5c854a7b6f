// One attempt from lease to record: lease due deliveries (attempt.started), send through the channel,
// then record the outcome (attempt.finished) and what follows from it: the next retry, a dead
// delivery's `delivery.exhausted` event, an endpoint disabled by a 410 Gone.
import type { ChannelSender, SendRequest, SendResult } from '../channels/channel.js';
import { failure } from '../channels/channel.js';
import { type Channel, DEFAULT_TIMEOUT_MS } from '../domain/endpoint.js';
import type { EventRecord } from '../domain/event.js';
import type { AttemptReport } from '../domain/ledger-entry.js';
import { type ServiceContext, SYSTEM } from '../services/context.js';
import { type EndpointsService, autoDisableEndpoint } from '../services/endpoints.js';
import { emitHeraldEvent } from '../services/record-event.js';
import type { DeliveryRow } from '../store/queries/deliveries.js';
import type { StoredEndpoint } from '../store/queries/endpoints.js';
import type { WriteTx } from '../store/write-tx.js';
import { nextStep } from './outcome.js';
import type { Leased } from './scheduler.js';

export type Senders = Record<Channel, ChannelSender>;

interface OpenedEndpoint {
  signingSecrets: string[];
  headers: Record<string, string>;
  smtpUrl: string | null;
}

export class AttemptRunner {
  private readonly openedByRecord = new WeakMap<StoredEndpoint, OpenedEndpoint>();

  constructor(
    private readonly ctx: ServiceContext,
    private readonly endpoints: EndpointsService,
    private readonly senders: Senders,
  ) {}

  /**
   * Leases the deliveries that are still due and whose endpoint is still enabled (checked inside the
   * transaction, as the scheduler's rows may be a little old): one attempt.started each.
   */
  async lease(rows: DeliveryRow[]): Promise<Leased[]> {
    const leased = await this.ctx.store.write(async (tx) => {
      const now = tx.now();
      const nowIso = now.toISOString();
      const leased: Leased[] = [];
      const endpoints = new Map<string, StoredEndpoint | undefined>();
      for (const row of rows) {
        const d = await tx.getDelivery(row.id);
        if (!d || (d.status !== 'pending' && d.status !== 'failed') || !d.next_attempt_at || d.next_attempt_at > nowIso) continue;
        let endpoint: StoredEndpoint | undefined;
        if (d.endpoint_id) {
          if (!endpoints.has(d.endpoint_id)) endpoints.set(d.endpoint_id, await tx.getEndpoint(d.endpoint_id));
          endpoint = endpoints.get(d.endpoint_id);
          // Deliveries to a disabled (or archived, or missing) endpoint wait, as in the due query.
          if (!endpoint?.enabled) continue;
        }
        const timeout = endpoint?.timeout_ms ?? DEFAULT_TIMEOUT_MS;
        const leaseUntil = new Date(now.getTime() + timeout + this.ctx.config.HERALD_LEASE_MARGIN_MS).toISOString();
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
    });
    // The events of the batch in one read (events never change) instead of one read per attempt.
    const wanted = [...new Set(leased.filter((l) => !l.delivery.digest_event_ids).map((l) => l.delivery.event_id))];
    if (wanted.length > 0) {
      const events = new Map((await this.ctx.store.read.events.eventsByIds(wanted)).map((e) => [e.id, e]));
      for (const l of leased) l.event = events.get(l.delivery.event_id);
    }
    return leased;
  }

  async run(leased: Leased, signal: AbortSignal): Promise<void> {
    const { delivery: d, n } = leased;
    const digestEvents = d.digest_event_ids ? await this.ctx.store.read.events.eventsByIds(d.digest_event_ids) : undefined;
    const event = digestEvents ? digestEvents[digestEvents.length - 1] : (leased.event ?? (await this.ctx.store.read.events.getEvent(d.event_id)));
    // The endpoint as the lease saw it, a moment ago in the same process (no second read per attempt).
    const endpoint = leased.endpoint;
    const started = this.ctx.clock();
    const result = event ? await this.send(d, n, event, endpoint, signal, digestEvents) : failure('network_error', `event ${d.event_id} not found`, { permanent: true });
    const finished = this.ctx.clock();
    const durationMs = finished.getTime() - started.getTime();
    this.ctx.metrics.attempts.inc({ channel: d.channel, outcome: signal.aborted ? 'interrupted' : result.outcome });
    this.ctx.metrics.attemptSeconds.observe({ channel: d.channel }, durationMs / 1000);

    await this.ctx.store.write(async (tx) => {
      const current = await tx.getDelivery(d.id);
      if (!current || current.status !== 'delivering' || current.attempts !== n) {
        this.ctx.log.warn({ delivery: d.id, n }, 'attempt ended after its lease was taken back; its result is not recorded');
        return;
      }
      const now = tx.now();
      const inCycle = n - current.cycle_start;
      if (signal.aborted) {
        const step = nextStep({ outcome: 'interrupted' }, endpoint?.retry ?? null, inCycle, now);
        await tx.append({
          kind: 'attempt.interrupted',
          stream: d.id,
          actor: SYSTEM.name,
          body: { delivery_id: d.id, n, reason: 'herald shut down during the attempt', delivery_status: step.status === 'dead' ? 'dead' : 'failed', next_attempt_at: step.next_attempt_at },
        });
        return;
      }
      const step = nextStep(result, endpoint?.retry ?? null, inCycle, now);
      const report: AttemptReport = {
        delivery_id: d.id,
        n,
        started_at: started.toISOString(),
        finished_at: finished.toISOString(),
        duration_ms: durationMs,
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
      if (step.status === 'dead' && event) await this.exhausted(tx, d, event, report);
      if (result.status_code === 410 && endpoint && d.channel !== 'email') {
        await autoDisableEndpoint(tx, this.ctx, endpoint, 'the receiver answered 410 Gone');
      }
    });
  }

  private async send(
    d: DeliveryRow,
    n: number,
    event: EventRecord,
    endpoint: StoredEndpoint | null,
    signal: AbortSignal,
    digestEvents: EventRecord[] | undefined,
  ): Promise<SendResult> {
    const opened = endpoint ? this.opened(endpoint) : undefined;
    const req: SendRequest = {
      deliveryId: d.id,
      attempt: n,
      channel: d.channel,
      event,
      digestEvents,
      url: endpoint?.url ?? null,
      to: d.recipients ?? endpoint?.to ?? null,
      from: endpoint?.from ?? null,
      template: endpoint?.template ?? null,
      signingSecrets: opened?.signingSecrets ?? [],
      headers: opened?.headers ?? {},
      smtpUrl: opened?.smtpUrl ?? null,
      timeoutMs: endpoint?.timeout_ms ?? DEFAULT_TIMEOUT_MS,
      signal,
      now: this.ctx.clock,
    };
    try {
      return await this.senders[d.channel].send(req);
    } catch (err) {
      this.ctx.log.error({ err, delivery: d.id }, 'channel threw instead of returning an outcome');
      return failure('network_error', `internal error in the ${d.channel} channel: ${(err as Error).message}`);
    }
  }

  /**
   * The endpoint's sealed settings, opened once per endpoint record: a lease batch shares one record
   * for all its deliveries to an endpoint, so its attempts (all started together, a moment after the
   * lease) do not each decrypt the same secrets. Kept only as long as that record is referenced.
   */
  private opened(endpoint: StoredEndpoint): OpenedEndpoint {
    let o = this.openedByRecord.get(endpoint);
    if (!o) {
      o = {
        signingSecrets: this.endpoints.signingSecrets(endpoint, this.ctx.clock()),
        headers: this.endpoints.customHeaders(endpoint),
        smtpUrl: this.endpoints.smtpUrl(endpoint),
      };
      this.openedByRecord.set(endpoint, o);
    }
    return o;
  }

  /** A dead delivery emits `delivery.exhausted` (but a dead delivery.exhausted never emits another). */
  private async exhausted(tx: WriteTx, d: DeliveryRow, event: EventRecord, report: AttemptReport): Promise<void> {
    if (event.type === 'delivery.exhausted') return;
    await emitHeraldEvent(tx, this.ctx, 'delivery.exhausted', event.subject, {
      delivery_id: d.id,
      event_id: event.id,
      event_type: event.type,
      endpoint_id: d.endpoint_id,
      channel: d.channel,
      attempts: report.n,
      last_outcome: report.outcome,
      last_status_code: report.status_code,
      last_error: report.error,
    });
  }
}
