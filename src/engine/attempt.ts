// One attempt of a leased delivery: send it through its channel, then record the outcome (record.ts).
// The slot is given back as soon as the send is over, so the next lease and this record can share a
// commit.
import type { SendRequest, SendResult, Senders } from '../channels/channel.js';
import { failure } from '../channels/channel.js';
import { DEFAULT_TIMEOUT_MS } from '../domain/endpoint.js';
import type { EventRecord } from '../domain/event.js';
import type { ServiceContext } from '../services/context.js';
import type { EndpointsService } from '../services/endpoints.js';
import type { StoredEndpoint } from '../store/records.js';
import type { Leased } from './lease.js';
import type { FinishedAttempt, RecordOutcome } from './record.js';

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
    /** Records a finished attempt (batched with the others that finish together). */
    private readonly record: (attempt: FinishedAttempt) => Promise<RecordOutcome>,
  ) {}

  /**
   * The events of a lease batch in one read (events never change) instead of one read per attempt. The
   * lease is committed already: if this read fails, each attempt reads its own event.
   */
  async withEvents(leased: Leased[]): Promise<Leased[]> {
    const wanted = [...new Set(leased.filter((l) => !l.delivery.digest_event_ids).map((l) => l.delivery.event_id))];
    if (wanted.length === 0) return leased;
    try {
      const events = new Map((await this.ctx.store.read.events.eventsByIds(wanted)).map((e) => [e.id, e]));
      for (const l of leased) l.event = events.get(l.delivery.event_id);
    } catch (err) {
      this.ctx.log.error({ err }, 'reading the events of leased deliveries failed; each attempt reads its own');
    }
    return leased;
  }

  /** Sends the attempt, calls `sent` once the send is over, then records it. */
  async run(leased: Leased, signal: AbortSignal, sent: () => void): Promise<void> {
    const { delivery: d, n, endpoint } = leased;
    const digestEvents = d.digest_event_ids ? await this.ctx.store.read.events.eventsByIds(d.digest_event_ids) : undefined;
    const event = digestEvents ? digestEvents[digestEvents.length - 1] : (leased.event ?? (await this.ctx.store.read.events.getEvent(d.event_id)));
    const started = this.ctx.clock();
    // Aborted before it started (herald is stopping): nothing is sent; it is recorded as interrupted.
    const result = signal.aborted
      ? failure('network_error', 'not sent: herald shut down first')
      : event
        ? await this.send(leased, event, signal, digestEvents)
        : failure('network_error', `event ${d.event_id} not found`, { permanent: true });
    const finished = this.ctx.clock();
    sent();
    this.ctx.metrics.attempts.inc({ channel: d.channel, outcome: signal.aborted ? 'interrupted' : result.outcome });
    this.ctx.metrics.attemptSeconds.observe({ channel: d.channel }, (finished.getTime() - started.getTime()) / 1000);

    const outcome = await this.record({
      delivery: d,
      n,
      endpoint: endpoint ? { id: endpoint.id, channel: endpoint.channel, url: endpoint.url, retry: endpoint.retry } : null,
      event: event ? { id: event.id, type: event.type, subject: event.subject } : null,
      started_at: started.toISOString(),
      finished_at: finished.toISOString(),
      aborted: signal.aborted,
      result,
    });
    if (!outcome.recorded) this.ctx.log.warn({ delivery: d.id, n }, 'attempt ended after its lease was taken back; its result is not recorded');
    else if (outcome.disabled) this.ctx.log.warn({ endpoint: d.endpoint_id, reason: outcome.disabled }, 'endpoint disabled automatically');
  }

  private async send(leased: Leased, event: EventRecord, signal: AbortSignal, digestEvents: EventRecord[] | undefined): Promise<SendResult> {
    const { delivery: d, n, endpoint } = leased;
    let opened: OpenedEndpoint | undefined;
    try {
      opened = endpoint ? this.opened(endpoint) : undefined;
    } catch {
      return failure('network_error', "the endpoint's sealed settings cannot be opened with this encryption key (HERALD_ENCRYPTION_KEY or <db>.key)", { permanent: true });
    }
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
   * for all its deliveries to an endpoint, so its attempts do not each decrypt the same secrets.
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
