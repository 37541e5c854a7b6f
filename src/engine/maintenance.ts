// Periodic work driven by croner. Ticks only append ledger entries; the scheduler does the sending.
//  - lease reaper: an attempt whose lease ran out (its process died) becomes `interrupted` and is retried;
//  - circuit breaker: an endpoint failing for too long, or dying delivery after delivery, is disabled.
import { Cron } from 'croner';
import type { ServiceContext } from '../services/context.js';
import { autoDisableEndpoint } from '../services/endpoints.js';
import { recordExpiredLease } from './record.js';

const REAP_BATCH = 500;

export class Maintenance {
  private job: Cron | null = null;
  private extra: Array<() => Promise<void>> = [];

  constructor(
    private readonly ctx: ServiceContext,
    /** Whether this process is running an attempt of the delivery. */
    private readonly holds: (deliveryId: string) => boolean,
  ) {}

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
    // Leases this process still holds are left alone, whatever the clock says (it may have jumped).
    const expired = (await this.ctx.store.read.deliveries.expiredLeases(this.ctx.clock(), REAP_BATCH)).filter((d) => !this.holds(d.id));
    if (expired.length === 0) return 0;
    // A unit each (they share a commit), so one the store refuses holds back only itself.
    const results = await Promise.allSettled(
      expired.map((e) =>
        this.ctx.store.transact(async (tx) => {
          const d = await tx.getDelivery(e.id);
          if (!d || d.status !== 'delivering' || !d.lease_until || Date.parse(d.lease_until) >= tx.now().getTime()) return false;
          const endpoint = d.endpoint_id ? await tx.getEndpoint(d.endpoint_id) : undefined;
          await recordExpiredLease(tx, this.ctx, d, endpoint?.retry ?? null);
          return true;
        }),
      ),
    );
    const reaped = results.filter((r) => r.status === 'fulfilled' && r.value).length;
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) this.ctx.log.error({ err: failed.reason }, 'recording an expired lease failed');
    if (reaped > 0) this.ctx.log.warn({ reaped }, 'expired leases: attempts recorded as interrupted and retried');
    return reaped;
  }

  /** Disables endpoints that have failed persistently (configurable time, or consecutive dead deliveries). */
  async checkBreakers(): Promise<void> {
    const cfg = this.ctx.config;
    const failingSince = new Date(this.ctx.clock().getTime() - cfg.HERALD_BREAKER_FAILING_S * 1000);
    const failing = await this.ctx.store.read.endpoints.failingEndpoints(failingSince, cfg.HERALD_BREAKER_CONSECUTIVE_DEAD);
    if (failing.length === 0) return;
    await this.ctx.store.transact(async (tx) => {
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
