// The scheduler loop: for each endpoint with due work (due-queue.ts), as many deliveries as the limits
// allow (limits.ts), leased in one unit of work for all endpoints, then sent as slots allow; a lease
// can run a few rounds ahead of the sends, so a freed slot starts its next delivery at once. New work and
// finished sends wake the loop; when idle it sleeps until the next due time (no busy polling).
import type { LedgerEntry } from '../domain/ledger-entry.js';
import type { Logger } from '../logger.js';
import type { StoredEndpoint } from '../store/records.js';
import { type DueReads, DueQueue } from './due-queue.js';
import type { LeaseRequest, Leased } from './lease.js';
import { type EndpointKey, Limits } from './limits.js';

/** What the loop needs, passed in so it never sees the store. */
export interface SchedulerDeps {
  due: DueReads;
  /** The endpoint if it may receive deliveries now (enabled, not archived). */
  activeEndpoint(id: string): Promise<StoredEndpoint | undefined>;
  lease(requests: LeaseRequest[]): Promise<Leased[]>;
  /** Runs one attempt; calls `sent` once its send is over (the slot is free), resolves once it is recorded. */
  run(leased: Leased, signal: AbortSignal, sent: () => void): Promise<void>;
  clock: () => Date;
  log: Logger;
  maxConcurrent: number;
  maxPerEndpoint: number;
}

/** How soon a lease the store refused is tried again. */
const LEASE_RETRY_MS = 1000;

/** Longest sleep when nothing is due (a safety net: committed work wakes the loop). */
const MAX_IDLE_MS = 30_000;

export class Scheduler {
  private readonly queue: DueQueue;
  private readonly limits: Limits;
  private readonly running = new Map<string, Promise<void>>();
  /** Aborts every attempt in flight once the shutdown grace is over (one signal for all of them). */
  private abortAll = new AbortController();
  /** Leased deliveries waiting for a send slot, by endpoint. */
  private readonly waiting = new Map<EndpointKey, Leased[]>();
  private ticking = false;
  private again = false;
  private stopped = true;
  private timer: NodeJS.Timeout | null = null;
  /** The tick under way or last run (stop() lets a lease in flight come back and start). */
  private ticked: Promise<void> = Promise.resolve();

  constructor(private readonly deps: SchedulerDeps) {
    this.queue = new DueQueue(deps.due);
    this.limits = new Limits(deps.maxConcurrent, deps.maxPerEndpoint);
  }

  start(): void {
    this.stopped = false;
    if (this.abortAll.signal.aborted) this.abortAll = new AbortController();
    this.wake();
  }

  /** Committed entries: what they make due wakes the loop. */
  noteCommitted(entries: readonly LedgerEntry[]): void {
    if (this.queue.note(entries, this.deps.clock())) this.wake();
  }

  wake(): void {
    if (this.stopped) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.ticking = true;
    setImmediate(() => {
      this.ticked = this.tick();
    });
  }

  /** Whether this process is running an attempt of the delivery (its lease is not to be reaped). */
  holds(deliveryId: string): boolean {
    if (this.running.has(deliveryId)) return true;
    for (const rows of this.waiting.values()) if (rows.some((l) => l.delivery.id === deliveryId)) return true;
    return false;
  }

  private async tick(): Promise<void> {
    try {
      let waitMs: number | null;
      do {
        this.again = false;
        waitMs = await this.fill();
      } while (this.again && !this.stopped);
      if (!this.stopped) await this.sleep(waitMs);
    } catch (err) {
      this.deps.log.error({ err }, 'scheduler tick failed; retrying in 1 s');
      this.arm(1000);
    } finally {
      this.ticking = false;
    }
    if (this.again) this.wake();
  }

  /**
   * Leases and starts what the limits allow. Returns how long until a rate limit lets a waiting
   * endpoint go on (null when none waits on one).
   */
  private async fill(): Promise<number | null> {
    const now = this.deps.clock();
    await this.queue.scan(now);
    const requests: Array<LeaseRequest & { seen: number }> = [];
    let waitMs: number | null = null;
    // The endpoints first (a read that fails takes no slot with it), then the slots.
    const candidates: Array<{ key: EndpointKey; endpoint: StoredEndpoint | null }> = [];
    for (const key of this.queue.list()) {
      const endpoint = key === null ? null : await this.deps.activeEndpoint(key);
      if (endpoint === undefined) this.queue.drop(key); // disabled or gone: its deliveries wait for endpoint.enabled
      else candidates.push({ key, endpoint });
    }
    for (const { key, endpoint } of candidates) {
      if (this.stopped || this.limits.full) break;
      const rate = endpoint?.rate_limit;
      const room = this.limits.leaseRoom(key, rate, now.getTime());
      if (room === 0) {
        if (key !== null && rate) {
          const ms = this.limits.waitForToken(key, rate, now.getTime());
          if (ms > 0) waitMs = waitMs === null ? ms : Math.min(waitMs, ms);
        }
        continue;
      }
      this.limits.take(key, room, rate, now.getTime());
      requests.push({ endpoint: key, max: room, seen: this.queue.newsOf(key) });
      this.queue.served(key);
    }
    if (requests.length === 0) return waitMs;

    const { leased, failed } = await this.leaseEach(requests);
    const gotBy = new Map<EndpointKey, number>();
    for (const l of leased) gotBy.set(l.delivery.endpoint_id, (gotBy.get(l.delivery.endpoint_id) ?? 0) + 1);
    for (const r of requests) {
      const got = gotBy.get(r.endpoint) ?? 0;
      if (got < r.max) this.limits.unused(r.endpoint, r.max - got);
      // Fewer than asked: nothing more was due there (unless news came meanwhile). A failed lease keeps
      // its place and is tried again.
      if (got < r.max && !failed.has(r.endpoint)) this.queue.drop(r.endpoint, r.seen);
    }
    for (const l of leased) this.waitingFor(l.delivery.endpoint_id).push(l);
    this.startSends();
    if (failed.size > 0) return Math.min(waitMs ?? LEASE_RETRY_MS, LEASE_RETRY_MS);
    // Endpoints that got all they asked for may have more: a send that frees a slot brings us back.
    return waitMs;
  }

  /**
   * One lease for all endpoints. If the store refuses it: one per endpoint, and for an endpoint refused
   * again its oldest delivery alone, so a fault holds back only what it touches.
   */
  private async leaseEach(requests: LeaseRequest[]): Promise<{ leased: Leased[]; failed: Set<EndpointKey> }> {
    try {
      return { leased: await this.deps.lease(requests), failed: new Set() };
    } catch (err) {
      // Refused twice (even if its oldest delivery then went through): tried again later, in full.
      const failed = new Set<EndpointKey>();
      const alone = (r: LeaseRequest) =>
        this.deps.lease([r]).catch((e: unknown) => {
          failed.add(r.endpoint);
          return r.max > 1 ? this.deps.lease([{ ...r, max: 1 }]) : Promise.reject(e);
        });
      const each = await Promise.allSettled(requests.map(alone));
      const firstError = each.find((r) => r.status === 'rejected');
      if (failed.size > 0) this.deps.log.error({ err: firstError?.reason ?? err, endpoints: failed.size }, `leasing due deliveries failed; trying again in ${LEASE_RETRY_MS} ms`);
      return { leased: each.flatMap((r) => (r.status === 'fulfilled' ? r.value : [])), failed };
    }
  }

  private waitingFor(key: EndpointKey): Leased[] {
    let rows = this.waiting.get(key);
    if (!rows) this.waiting.set(key, (rows = []));
    return rows;
  }

  /** Starts the leased deliveries that have a send slot, oldest first per endpoint. */
  private startSends(): void {
    for (const [key, rows] of this.waiting) {
      while (rows.length > 0 && this.limits.maySend(key)) {
        this.limits.startSend(key);
        this.launch(rows.shift()!);
      }
      if (rows.length === 0) this.waiting.delete(key);
    }
  }

  private launch(leased: Leased, signal = this.abortAll.signal): void {
    const key: EndpointKey = leased.delivery.endpoint_id;
    let slotHeld = true;
    const freeSlot = () => {
      if (!slotHeld) return;
      slotHeld = false;
      this.limits.sent(key);
      if (!this.stopped) this.startSends();
      this.wake();
    };
    const done = this.deps
      .run(leased, signal, freeSlot)
      .catch((err: unknown) => this.deps.log.error({ err, delivery: leased.delivery.id }, 'attempt failed unexpectedly'))
      .finally(() => {
        freeSlot();
        this.running.delete(leased.delivery.id);
      });
    this.running.set(leased.delivery.id, done);
  }

  /**
   * Sleeps until the next due time or a rate limit's next token; endpoints waiting for a slot are
   * woken by the send that frees it.
   */
  private async sleep(waitMs: number | null): Promise<void> {
    const next = await this.queue.nextDueAt();
    let delay = next === null ? MAX_IDLE_MS : next.getTime() - this.deps.clock().getTime();
    if (waitMs !== null) delay = Math.min(delay, waitMs);
    if (delay <= 0) {
      this.again = true; // it came due while we were looking
      return;
    }
    this.arm(Math.min(delay, MAX_IDLE_MS));
  }

  private arm(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.wake();
    }, ms);
    this.timer.unref();
  }

  /** Stops leasing, waits up to `graceMs` for attempts in flight, then aborts the rest (recorded as interrupted). */
  async stop(graceMs: number): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.ticked;
    // Leased but never sent: recorded as interrupted, so they are due again at once after a restart.
    const aborted = AbortSignal.abort();
    for (const [key, rows] of this.waiting) {
      for (const l of rows) {
        this.limits.startSend(key);
        this.launch(l, aborted);
      }
    }
    this.waiting.clear();
    const all = () => Promise.all(this.running.values());
    let timeout: NodeJS.Timeout | undefined;
    await Promise.race([all(), new Promise((r) => (timeout = setTimeout(r, graceMs)))]);
    clearTimeout(timeout);
    if (this.running.size > 0) {
      this.deps.log.warn({ attempts: this.running.size }, 'shutdown grace elapsed: releasing attempts still in flight');
      this.abortAll.abort();
      await all();
    }
  }
}
