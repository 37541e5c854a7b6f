// Deliveries as the API shows them, and the operator's actions on them: redeliver one, recover
// everything that failed to an endpoint since T, send a test event to an endpoint.
import { z } from 'zod';
import { CHANNELS } from '../domain/endpoint.js';
import { HeraldError } from '../domain/errors.js';
import { eventFilterSchema } from '../domain/event.js';
import type { Delivery, DeliveryFilters, RecoveryPosition } from '../store/records.js';
import type { Principal, ServiceContext } from './context.js';
import { recordEvent } from './record-event.js';
import { type RequeuePlan, START, requeueChunk } from './requeue-chunks.js';
import { yieldToOthers } from './turns.js';

export function deliveryView(d: Delivery) {
  return {
    id: d.id,
    event_id: d.event_id,
    endpoint_id: d.endpoint_id,
    channel: d.channel,
    status: d.status,
    next_attempt_at: d.next_attempt_at,
    recipients: d.recipients,
    attempt_count: d.attempts,
    digest_id: d.digest_id,
    digest_event_ids: d.digest_event_ids,
    event_type: d.event_type,
    created_at: d.created_at,
    updated_at: d.updated_at,
  };
}

const time = z.iso.datetime({ offset: true }).transform((v) => new Date(v).toISOString());

/** The deliveries list's filters; a requeue takes the same ones (requeue-jobs.ts), so its count is the list's. */
export const deliveryFilterShape = {
  endpoint_id: z.string().max(64).optional(),
  event_id: z.string().max(64).optional(),
  status: z.enum(['pending', 'delivering', 'succeeded', 'failed', 'dead', 'cancelled']).optional(),
  channel: z.enum(CHANNELS).optional(),
  type: eventFilterSchema.optional().describe("the event's type: exact, or a prefix such as job.* or job_* (as endpoint filters)"),
  since: time.optional().describe('created at or after'),
  until: time.optional().describe('created before'),
};

export const redeliverSchema = z.object({ reason: z.string().max(1000).optional() }).strict().meta({ id: 'RedeliverInput' });

/** How far back a recovery may reach. */
export const MAX_RECOVERY_WINDOW_S = 90 * 86_400;

export const recoverSchema = z
  .object({
    since: z.iso.datetime({ offset: true }),
    until: z.iso.datetime({ offset: true }).optional(),
  })
  .strict()
  .meta({ id: 'RecoverInput' });


export class DeliveriesService {
  private readonly recoveries = new Set<Promise<void>>();
  private halted = false;

  constructor(private readonly ctx: ServiceContext) {}

  async list(filters: DeliveryFilters) {
    const page = await this.ctx.store.read.deliveries.listDeliveries(filters);
    return { data: page.data.map(deliveryView), next_cursor: page.next_cursor };
  }

  async get(id: string) {
    const d = await this.ctx.store.read.deliveries.getDelivery(id);
    if (!d) throw new HeraldError('not_found', `no delivery ${id}`);
    return { ...deliveryView(d), attempts: await this.ctx.store.read.deliveries.attemptsOf(id) };
  }

  /** A new attempt now, freshly signed, with a fresh retry budget; the actor and reason go in the ledger. */
  async redeliver(p: Principal, id: string, { reason }: z.output<typeof redeliverSchema>) {
    await this.ctx.store.transact(async (tx) => {
      const d = await tx.getDelivery(id);
      if (!d) throw new HeraldError('not_found', `no delivery ${id}`);
      if (d.status === 'delivering') throw new HeraldError('conflict', 'an attempt of this delivery is in flight; wait for it to finish');
      if (d.status === 'cancelled') throw new HeraldError('conflict', 'this delivery was cancelled (its endpoint is archived)');
      if (d.endpoint_id) {
        const e = await tx.getEndpoint(d.endpoint_id);
        if (e && !e.enabled) throw new HeraldError('conflict', `endpoint ${e.id} is disabled; enable it first`);
      }
      await tx.append({
        kind: 'deliveries.requeued',
        stream: id,
        actor: p.name,
        body: { delivery_ids: [id], trigger: 'redelivery', reason: reason ?? null, next_attempt_at: tx.now().toISOString() },
      });
    });
    return this.get(id);
  }

  /**
   * Re-queues every failed or dead delivery to an endpoint created in [since, until). The first chunk
   * is queued before answering, the rest in the background; only failed/dead ones are touched, so a
   * repeated request does not queue anything twice.
   */
  async recover(p: Principal, endpointId: string, input: z.output<typeof recoverSchema>) {
    const now = this.ctx.clock();
    const since = new Date(input.since).toISOString();
    const until = new Date(Math.min(input.until ? Date.parse(input.until) : now.getTime(), now.getTime())).toISOString();
    if (since >= until) throw new HeraldError('validation', 'since must be before until (and before now)', [{ path: 'since', message: 'must be before until' }]);
    if (Date.parse(until) - Date.parse(since) > MAX_RECOVERY_WINDOW_S * 1000) {
      throw new HeraldError('validation', `a recovery may span at most ${MAX_RECOVERY_WINDOW_S / 86_400} days`, [{ path: 'since', message: 'too far back' }]);
    }
    const endpoint = await this.ctx.store.read.endpoints.getEndpoint(endpointId);
    if (!endpoint) throw new HeraldError('not_found', `no endpoint ${endpointId}`);
    if (endpoint.archived_at) throw new HeraldError('conflict', `endpoint ${endpointId} is archived`);

    const plan: RequeuePlan = {
      selection: { match: { endpoint_id: endpointId, since, until }, statuses: ['failed', 'dead'], live_endpoints_only: false, up_to_seq: null },
      stream: endpointId,
      actor: p.name,
      trigger: 'recovery',
      reason: `recover ${since} .. ${until}`,
    };
    const first = await this.ctx.store.transact((tx) => requeueChunk(tx, plan, START, this.ctx.config.HERALD_REQUEUE_CHUNK));
    if (first.next) {
      const rest = this.recoverRest(plan, first.next, first.count);
      this.recoveries.add(rest);
      void rest.finally(() => this.recoveries.delete(rest));
    }
    return { endpoint_id: endpointId, since, until, requeued: first.count, complete: first.next === null };
  }

  /** Sends a herald.test event to this endpoint only, now. */
  async test(p: Principal, endpointId: string) {
    const endpoint = await this.ctx.store.read.endpoints.getEndpoint(endpointId);
    if (!endpoint) throw new HeraldError('not_found', `no endpoint ${endpointId}`);
    if (endpoint.archived_at || !endpoint.enabled) throw new HeraldError('conflict', `endpoint ${endpointId} is ${endpoint.archived_at ? 'archived' : 'disabled'}`);
    return this.ctx.store.transact((tx) =>
      recordEvent(
        tx,
        this.ctx,
        { type: 'herald.test', source: 'herald', subject: endpointId, user: null, occurred_at: null, data: { endpoint_id: endpointId, message: 'a test event from herald', requested_by: p.name }, notify: null },
        p,
        null,
        [endpoint],
      ),
    );
  }

  /** Stops background recoveries after their current chunk (shutdown); running the recovery again goes on. */
  halt(): void {
    this.halted = true;
  }

  /** Waits for background recoveries (shutdown). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.recoveries]);
  }

  private async recoverRest(plan: RequeuePlan, after: RecoveryPosition, done: number) {
    let total = done;
    let next: RecoveryPosition | null = after;
    try {
      while (next && !this.halted) {
        await yieldToOthers();
        const from: RecoveryPosition = next;
        const chunk = await this.ctx.store.transact((tx) => requeueChunk(tx, plan, from, this.ctx.config.HERALD_REQUEUE_CHUNK));
        total += chunk.count;
        next = chunk.next;
      }
      if (next) this.ctx.log.warn({ endpoint: plan.stream, requeued: total }, 'recovery halted by shutdown; run it again to continue (it is idempotent)');
      else this.ctx.log.info({ endpoint: plan.stream, requeued: total }, 'recovery finished');
    } catch (err) {
      this.ctx.log.error({ err, endpoint: plan.stream, requeued: total }, 'recovery stopped; run it again to continue (it is idempotent)');
    }
  }
}
