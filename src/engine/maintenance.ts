// Periodic work driven by croner. Ticks only append ledger entries; the scheduler does the sending.
//  - lease reaper: an attempt whose lease ran out (its process died) becomes `interrupted` and is retried;
//  - circuit breaker: an endpoint failing for too long, or dying delivery after delivery, is disabled.
import { Cron } from 'croner';
import { SYSTEM, type ServiceContext } from '../services/context.js';
import { autoDisableEndpoint } from '../services/endpoints.js';
import { nextStep } from './outcome.js';

const REAP_BATCH = 500;

export class Maintenance {
  private job: Cron | null = null;
  private extra: Array<() => Promise<void>> = [];

  constructor(private readonly ctx: ServiceContext) {}

  /** Adds work to every tick (digests register here). */
  onTick(fn: () => Promise<void>): void {
    this.extra.push(fn);
  }

  start(): void {
    this.job = new Cron(this.ctx.config.HERALD_MAINTENANCE_CRON, { protect: true }, () => this.tick());
    void this.tick();
  }

  async tick(): Promise<void> {
    for (const step of [() => this.reapLeases(), () => this.checkBreakers(), ...this.extra]) {
      try {
        await step();
      } catch (err) {
        this.ctx.log.error({ err }, 'maintenance step failed');
      }
    }
  }

  /** Expired leases become interrupted attempts; the delivery is due again at once. */
  async reapLeases(): Promise<number> {
    const now = this.ctx.clock().toISOString();
    const expired = await this.ctx.store.read.deliveries.expiredLeases(now, REAP_BATCH);
    if (expired.length === 0) return 0;
    return this.ctx.store.write(async (tx) => {
      let reaped = 0;
      for (const row of expired) {
        const d = await tx.getDelivery(row.id);
        if (!d || d.status !== 'delivering' || !d.lease_until || d.lease_until >= tx.now().toISOString()) continue;
        const endpoint = d.endpoint_id ? await tx.getEndpoint(d.endpoint_id) : undefined;
        const step = nextStep({ outcome: 'interrupted' }, endpoint?.retry ?? null, d.attempts - d.cycle_start, tx.now());
        await tx.append({
          kind: 'attempt.interrupted',
          stream: d.id,
          actor: SYSTEM.name,
          body: {
            delivery_id: d.id,
            n: d.attempts,
            reason: `the attempt's lease expired at ${d.lease_until} without a result (herald stopped or crashed mid-attempt)`,
            delivery_status: step.status === 'dead' ? 'dead' : 'failed',
            next_attempt_at: step.next_attempt_at,
          },
        });
        reaped++;
      }
      if (reaped > 0) this.ctx.log.warn({ reaped }, 'expired leases: attempts recorded as interrupted and retried');
      return reaped;
    });
  }

  /** Disables endpoints that have failed persistently (configurable time, or consecutive dead deliveries). */
  async checkBreakers(): Promise<void> {
    const cfg = this.ctx.config;
    const failingSince = new Date(this.ctx.clock().getTime() - cfg.HERALD_BREAKER_FAILING_S * 1000).toISOString();
    const failing = await this.ctx.store.read.endpoints.failingEndpoints(failingSince, cfg.HERALD_BREAKER_CONSECUTIVE_DEAD);
    if (failing.length === 0) return;
    await this.ctx.store.write(async (tx) => {
      for (const e of failing) {
        const reason =
          e.consecutive_dead >= cfg.HERALD_BREAKER_CONSECUTIVE_DEAD
            ? `${e.consecutive_dead} deliveries in a row went dead`
            : `every attempt has failed since ${e.failing_since}`;
        if (await autoDisableEndpoint(tx, this.ctx, e, reason)) tx.afterCommit(() => this.ctx.log.warn({ endpoint: e.id, reason }, 'endpoint disabled automatically'));
      }
    });
  }

  stop(): void {
    this.job?.stop();
  }
}
