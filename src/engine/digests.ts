// Digests: an endpoint with `digest: { cron }` gets one message per period instead of one per event.
// Matching events are held (a delivery with no due time); at each cron tick the held deliveries are
// gathered into one digest delivery (`digest.created` in the ledger names every event it carries),
// which the scheduler sends like any other. Ticks only append; the engine does the sending.
import { Cron } from 'croner';
import { newId } from '../domain/ids.js';
import { SYSTEM, type ServiceContext } from '../services/context.js';

/** Most events one digest carries; more wait for the next tick. */
const MAX_PER_DIGEST = 1000;

export class Digests {
  private readonly jobs = new Map<string, { cron: string; job: Cron }>();
  private stopped = false;

  constructor(private readonly ctx: ServiceContext) {}

  /** Aligns the cron jobs with the endpoints that ask for a digest. */
  async sync(): Promise<void> {
    if (this.stopped) return;
    const endpoints = await this.ctx.store.read.endpoints.activeEndpoints();
    const wanted = new Map(endpoints.filter((e) => e.digest).map((e) => [e.id, e.digest!.cron]));
    for (const [id, j] of this.jobs) {
      if (wanted.get(id) !== j.cron) {
        j.job.stop();
        this.jobs.delete(id);
      }
    }
    for (const [id, cron] of wanted) {
      if (this.jobs.has(id)) continue;
      try {
        const job = new Cron(cron, { protect: true }, async () => {
          try {
            await this.flush(id);
          } catch (err) {
            this.ctx.log.error({ err, endpoint: id }, 'digest failed');
          }
        });
        this.jobs.set(id, { cron, job });
      } catch (err) {
        this.ctx.log.error({ err, endpoint: id, cron }, 'invalid digest schedule');
      }
    }
  }

  /** Gathers the endpoint's held deliveries into one digest delivery; returns how many it carries. */
  flush(endpointId: string): Promise<number> {
    return this.ctx.store.transact(async (tx) => {
      const ep = await tx.getEndpoint(endpointId);
      if (!ep || !ep.enabled || ep.archived_at || !ep.digest) return 0;
      const held = await tx.heldDeliveries(endpointId, MAX_PER_DIGEST);
      if (held.length === 0) return 0;
      const id = newId('msg', tx.now().getTime());
      await tx.append({
        kind: 'digest.created',
        stream: id,
        actor: SYSTEM.name,
        body: {
          delivery: { id, endpoint_id: endpointId, channel: ep.channel, next_attempt_at: tx.now().toISOString() },
          event_ids: [...new Set(held.map((d) => d.event_id))],
          delivery_ids: held.map((d) => d.id),
        },
      });
      return held.length;
    });
  }

  stop(): void {
    this.stopped = true;
    for (const j of this.jobs.values()) j.job.stop();
    this.jobs.clear();
  }
}
