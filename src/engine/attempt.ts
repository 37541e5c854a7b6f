// One attempt from lease to record: lease due deliveries (attempt.started), send through the channel,
// then record the outcome (attempt.finished) and what follows from it: the next retry, a dead
// delivery's `delivery.exhausted` event, an endpoint disabled by a 410 Gone.
import type { ChannelSender, SendRequest, SendResult } from '../channels/channel.js';
import { failure } from '../channels/channel.js';
import { type Channel, DEFAULT_TIMEOUT_MS } from '../domain/endpoint.js';
import type { EventRecord } from '../domain/event.js';
import type { ServiceContext } from '../services/context.js';
import type { EndpointsService } from '../services/endpoints.js';
import type { DeliveryRow } from '../store/queries/deliveries.js';
import type { StoredEndpoint } from '../store/queries/endpoints.js';
import type { FinishOutcome, FinishedAttempt } from './attempt-units.js';
import type { Leased } from './scheduler.js';

/** Runs the attempt units (engine/attempt-units.ts), on the writer thread or inline. */
export interface AttemptUnitsRunner {
  lease(deliveryIds: string[], leaseMarginMs: number): Promise<Leased[]>;
  finishAndLease(attempt: FinishedAttempt, nextIds: string[], leaseMarginMs: number): Promise<{ outcome: FinishOutcome; leased: Leased[] }>;
}

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
    private readonly units: AttemptUnitsRunner,
  ) {}

  /** Leases the rows that are still due (attempt.started each), with their events read in one go. */
  async lease(rows: DeliveryRow[]): Promise<Leased[]> {
    return this.withEvents(await this.units.lease(rows.map((r) => r.id), this.ctx.config.HERALD_LEASE_MARGIN_MS));
  }

  /** The events of a lease batch in one read (events never change) instead of one read per attempt. */
  private async withEvents(leased: Leased[]): Promise<Leased[]> {
    const wanted = [...new Set(leased.filter((l) => !l.delivery.digest_event_ids).map((l) => l.delivery.event_id))];
    if (wanted.length > 0) {
      const events = new Map((await this.ctx.store.read.events.eventsByIds(wanted)).map((e) => [e.id, e]));
      for (const l of leased) l.event = events.get(l.delivery.event_id);
    }
    return leased;
  }

  /**
   * Sends the attempt and records it. `takeNext` (called once the send is over) names the deliveries
   * this slot takes next; they are leased in the same unit as the record and returned, to be started.
   */
  async run(leased: Leased, signal: AbortSignal, takeNext: () => DeliveryRow[] = () => []): Promise<Leased[]> {
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

    const next = signal.aborted ? [] : takeNext();
    const attempt: FinishedAttempt = {
      delivery: { id: d.id, endpoint_id: d.endpoint_id, channel: d.channel, event_id: d.event_id },
      n,
      endpoint: endpoint ? { id: endpoint.id, channel: endpoint.channel, url: endpoint.url, retry: endpoint.retry } : null,
      event: event ? { id: event.id, type: event.type, subject: event.subject } : null,
      started_at: started.toISOString(),
      finished_at: finished.toISOString(),
      aborted: signal.aborted,
      result,
    };
    const margin = this.ctx.config.HERALD_LEASE_MARGIN_MS;
    const { outcome, leased: nextLeased } = await this.units.finishAndLease(attempt, next.map((r) => r.id), margin).catch((err: unknown) => {
      if (next.length === 0) throw err;
      // The lease of the next rows must not take the attempt's record down with it: record it alone.
      this.ctx.log.error({ err, delivery: d.id }, 'leasing the next deliveries failed; recording the attempt alone');
      return this.units.finishAndLease(attempt, [], margin);
    });
    if (!outcome.recorded) this.ctx.log.warn({ delivery: d.id, n }, 'attempt ended after its lease was taken back; its result is not recorded');
    else if (outcome.disabled) this.ctx.log.warn({ endpoint: d.endpoint_id, reason: outcome.disabled }, 'endpoint disabled automatically');
    return nextLeased.length > 0 ? this.withEvents(nextLeased) : nextLeased;
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
}
