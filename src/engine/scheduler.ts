// The scheduler loop: picks due deliveries oldest first, leases them, and runs attempts concurrently
// under a global bound and a per-endpoint bound, so one slow receiver cannot hold back the others.
// New work wakes it at once; when idle it sleeps until the next due time (no busy polling).
//
// Due rows are fetched in batches into a local backlog (oldest first) and started from there as
// attempts finish, instead of asking the database again for every freed slot: with a pile of due
// deliveries, the due query reads and sorts every waiting row, so asking it once per finished
// attempt cost more than the attempt. The backlog is only a hint: lease() re-checks each row inside
// its transaction. Anything that becomes due later has a later next_attempt_at than every backlog
// row, so serving the backlog first keeps the oldest-first order; it is refetched when it runs dry
// or gets old (BACKLOG_MAX_AGE_MS), whichever comes first.
//
// While some endpoints are at their limit, the due query skips their rows, and when nothing else is
// due it reads past every one of them: with a deep backlog behind a slow endpoint that costs
// milliseconds. So the rows of endpoints at their limit stay in the backlog (a freed slot takes its
// next row from there), and the database is asked again only when there may be news: new work for
// another endpoint, a freed slot whose endpoint has nothing left in the backlog, or a second gone by.
//
// Hand-over: when an attempt's send is over, its slot takes the next backlog row at once and the row is
// leased in the same unit of work that records the attempt, so a busy slot waits for the writer once
// per attempt, not twice (record, then a separate lease). Handed-over rows are reserved until their
// lease comes back, and count against both limits meanwhile.
import type { Logger } from '../logger.js';
import type { EventRecord } from '../domain/event.js';
import type { DeliveryRow } from '../store/queries/deliveries.js';
import type { StoredEndpoint } from '../store/queries/endpoints.js';

export interface Leased {
  delivery: DeliveryRow;
  n: number;
  leaseUntil: string;
  /** The delivery's endpoint as read inside the lease transaction (null for notify.* recipients). */
  endpoint: StoredEndpoint | null;
  /** The delivery's event, read with the rest of the batch (absent for digests: run() reads those). */
  event?: EventRecord | undefined;
}

/** The store operations the loop needs, passed in so it never sees SQL. */
export interface SchedulerDeps {
  due(now: string, limit: number, skipEndpoints: string[]): Promise<DeliveryRow[]>;
  nextDueAt(): Promise<string | null>;
  lease(rows: DeliveryRow[]): Promise<Leased[]>;
  /**
   * Runs one attempt and records it; when `signal` aborts (shutdown) it records the attempt as
   * interrupted. Once the send is over it calls `takeNext` for the rows its slot takes next, leases them
   * with the record, and resolves with them (to be started).
   */
  run(leased: Leased, signal: AbortSignal, takeNext: () => DeliveryRow[]): Promise<Leased[]>;
  clock: () => Date;
  log: Logger;
  maxConcurrent: number;
  maxPerEndpoint: number;
}

/** Longest sleep when nothing is due: a safety net for work written by another process. */
const MAX_IDLE_MS = 30_000;

/** When every due delivery is blocked by a limit, finishing attempts wake us; this is the safety net. */
const BLOCKED_RECHECK_MS = 1_000;

/** Due rows fetched per query into the backlog. */
const BACKLOG_FETCH = 500;

/** A backlog older than this is refetched before use (work re-enabled or requeued meanwhile is seen). */
const BACKLOG_MAX_AGE_MS = 1_000;

/** Fetches per fill(); past it, the tick's re-check (`again`) takes over, so a fill never spins. */
const MAX_FETCHES_PER_FILL = 4;

/** Without news, how often the database is asked for work of endpoints not at their limit. */
const DISCOVERY_INTERVAL_MS = BLOCKED_RECHECK_MS;

const groupOf = (d: DeliveryRow) => d.endpoint_id ?? `notify:${d.channel}`;

export class Scheduler {
  private running = new Map<string, { leased: Leased; abort: AbortController; done: Promise<void> }>();
  private perGroup = new Map<string, number>();
  /** Rows being leased (by a tick or for a finishing attempt's slot), not started yet, by group. */
  private reserved = new Map<string, number>();
  private reservedTotal = 0;
  private ticking = false;
  /** The tick under way or last run (stop() lets a lease in flight come back and start). */
  private ticked: Promise<void> = Promise.resolve();
  private again = false;
  private stopped = true;
  private timer: NodeJS.Timeout | null = null;
  /** Due rows not started yet, oldest first (a hint; lease() re-checks each one). */
  private backlog: DeliveryRow[] = [];
  private backlogFetchedAt = 0;
  /** The last fetch returned fewer rows than asked: the backlog held everything that was due then. */
  private backlogComplete = false;
  /** Something happened that a query skipping the endpoints at their limit could find. */
  private news = true;
  private lastDiscoveryAt = 0;

  constructor(private readonly deps: SchedulerDeps) {}

  start(): void {
    this.stopped = false;
    this.wake();
  }

  /**
   * Something may be due now (a new event, a redelivery, a re-enabled endpoint). `forGroups` names
   * the endpoints (or notify:<channel>) that got new work, when the caller knows them.
   */
  wake(forGroups?: readonly string[]): void {
    if (this.stopped) return;
    if (!forGroups || forGroups.some((g) => this.taken(g) < this.deps.maxPerEndpoint)) this.news = true;
    this.tickSoon();
  }

  private tickSoon(): void {
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.ticking = true;
    setImmediate(() => {
      this.ticked = this.tick();
    });
  }

  get inFlight(): number {
    return this.running.size;
  }

  private async tick(): Promise<void> {
    try {
      let blocked: boolean;
      do {
        this.again = false;
        blocked = await this.fill();
      } while (this.again && !this.stopped);
      await this.sleepUntilNextDue(blocked);
    } catch (err) {
      this.deps.log.error({ err }, 'scheduler tick failed; retrying in 1 s');
      this.arm(1000);
    } finally {
      this.ticking = false;
    }
    if (this.again) this.tickSoon();
  }

  /** Leases and starts as many due deliveries as the limits allow; true when a limit stopped it. */
  private async fill(): Promise<boolean> {
    let fetches = 0;
    for (;;) {
      if (this.stopped) return false;
      const capacity = this.deps.maxConcurrent - this.running.size - this.reservedTotal;
      // Every slot is taken: a finishing attempt wakes us, so there is nothing to ask the database.
      if (capacity <= 0) return true;
      const stale = this.deps.clock().getTime() - this.backlogFetchedAt > BACKLOG_MAX_AGE_MS;
      if ((this.backlog.length === 0 && !(fetches > 0 && this.backlogComplete)) || (stale && fetches === 0)) {
        if (fetches >= MAX_FETCHES_PER_FILL || !this.mayAsk()) return false;
        await this.refetch();
        fetches++;
        continue;
      }
      const picked = this.pick(capacity);
      if (picked.length === 0) {
        // What is left is for endpoints at their limit; rows for other endpoints may wait behind
        // them in the database, so look once more (if there may be news) before calling it blocked.
        if (fetches === 0 && this.mayAsk()) {
          await this.refetch();
          fetches++;
          continue;
        }
        return this.backlog.length > 0;
      }
      // Reserved while the lease is under way, so a hand-over meanwhile counts them against the limits.
      this.reserve(picked);
      let leased: Leased[];
      try {
        leased = await this.deps.lease(picked);
      } finally {
        this.unreserve(picked);
      }
      for (const l of leased) this.launch(l);
    }
  }

  /** Whether asking the database can find anything: always when no endpoint is at its limit. */
  private mayAsk(): boolean {
    if (this.news || this.saturatedGroups().length === 0) return true;
    return this.deps.clock().getTime() - this.lastDiscoveryAt >= DISCOVERY_INTERVAL_MS;
  }

  /**
   * Refills the backlog with the oldest due rows of endpoints that are not at their limit, keeping
   * the rows it held for those that are.
   */
  private async refetch(): Promise<void> {
    const now = this.deps.clock();
    const skip = this.saturatedGroups();
    if (skip.length > 0) {
      this.news = false;
      this.lastDiscoveryAt = now.getTime();
    }
    const rows = await this.deps.due(now.toISOString(), BACKLOG_FETCH, skip);
    const fresh = rows.filter((d) => !this.running.has(d.id));
    if (skip.length === 0) {
      this.backlog = fresh;
    } else {
      const saturated = new Set(skip);
      const kept = this.backlog.filter((d) => saturated.has(groupOf(d)));
      const at = (d: DeliveryRow) => d.next_attempt_at ?? '';
      const byDue = (a: DeliveryRow, b: DeliveryRow) => (at(a) < at(b) ? -1 : at(a) > at(b) ? 1 : 0);
      this.backlog = [...fresh, ...kept].sort(byDue).slice(0, 2 * BACKLOG_FETCH);
    }
    this.backlogFetchedAt = now.getTime();
    this.backlogComplete = rows.length < BACKLOG_FETCH;
  }

  /** Takes up to `capacity` backlog rows, oldest first, within the per-endpoint limit. */
  private pick(capacity: number): DeliveryRow[] {
    const picked: DeliveryRow[] = [];
    const kept: DeliveryRow[] = [];
    const planned = new Map<string, number>();
    for (const d of this.backlog) {
      if (picked.length >= capacity || this.running.has(d.id)) {
        if (!this.running.has(d.id)) kept.push(d);
        continue;
      }
      const g = groupOf(d);
      const n = planned.get(g) ?? this.taken(g);
      if (n >= this.deps.maxPerEndpoint) {
        kept.push(d);
        continue;
      }
      planned.set(g, n + 1);
      picked.push(d);
    }
    this.backlog = kept;
    return picked;
  }

  private launch(leased: Leased): void {
    const g = groupOf(leased.delivery);
    this.perGroup.set(g, (this.perGroup.get(g) ?? 0) + 1);
    const abort = new AbortController();
    let handedOver: DeliveryRow[] = [];
    const done = this.deps
      .run(leased, abort.signal, () => (handedOver = this.handOver(g)))
      .then((next) => {
        this.unreserve(handedOver);
        handedOver = [];
        // Started even when stopping: they are leased, and stop() waits for them or releases them.
        for (const l of next) this.launch(l);
      })
      .catch((err: unknown) => this.deps.log.error({ err, delivery: leased.delivery.id }, 'attempt failed unexpectedly'))
      .finally(() => {
        this.unreserve(handedOver);
        this.running.delete(leased.delivery.id);
        const left = (this.perGroup.get(g) ?? 1) - 1;
        if (left <= 0) this.perGroup.delete(g);
        else this.perGroup.set(g, left);
        // The freed slot takes the endpoint's next row from the backlog; with none there, look.
        if (!this.backlog.some((d) => groupOf(d) === g)) this.news = true;
        this.tickSoon();
      });
    this.running.set(leased.delivery.id, { leased, abort, done });
  }

  /**
   * The row the slot of a finishing attempt (of group `from`) takes next: the oldest backlog row within
   * both limits once that attempt is gone. None when stopping or when the backlog is old (the tick
   * refetches it first, so work that came due meanwhile keeps its place).
   */
  private handOver(from: string): DeliveryRow[] {
    if (this.stopped || this.deps.clock().getTime() - this.backlogFetchedAt > BACKLOG_MAX_AGE_MS) return [];
    if (this.running.size - 1 + this.reservedTotal >= this.deps.maxConcurrent) return [];
    const i = this.backlog.findIndex((d) => {
      if (this.running.has(d.id)) return false;
      const g = groupOf(d);
      return this.taken(g) - (g === from ? 1 : 0) < this.deps.maxPerEndpoint;
    });
    if (i < 0) return [];
    const taken = this.backlog.splice(i, 1);
    this.reserve(taken);
    return taken;
  }

  private reserve(rows: DeliveryRow[]): void {
    for (const d of rows) {
      const g = groupOf(d);
      this.reserved.set(g, (this.reserved.get(g) ?? 0) + 1);
      this.reservedTotal++;
    }
  }

  private unreserve(rows: DeliveryRow[]): void {
    for (const d of rows) {
      const g = groupOf(d);
      const left = (this.reserved.get(g) ?? 1) - 1;
      if (left <= 0) this.reserved.delete(g);
      else this.reserved.set(g, left);
      this.reservedTotal--;
    }
  }

  /** Attempts in flight for the group, counting rows being leased (by a tick or a hand-over) but not started yet. */
  private taken(g: string): number {
    return (this.perGroup.get(g) ?? 0) + (this.reserved.get(g) ?? 0);
  }

  /** Endpoints with as many attempts in flight (or being leased) as the per-endpoint limit allows. */
  private saturatedGroups(): string[] {
    return [...new Set([...this.perGroup.keys(), ...this.reserved.keys()])].filter((g) => this.taken(g) >= this.deps.maxPerEndpoint);
  }

  private async sleepUntilNextDue(blocked: boolean): Promise<void> {
    if (this.stopped) return;
    // Blocked by a limit, finishing attempts wake us. With endpoints at their limit, the next-due
    // question would read past all their due rows; finishing attempts and new work wake us instead,
    // and the re-check finds retries of other endpoints that came due meanwhile.
    if (blocked || this.saturatedGroups().length > 0) return this.arm(BLOCKED_RECHECK_MS);
    const next = await this.deps.nextDueAt();
    const delay = next === null ? MAX_IDLE_MS : Date.parse(next) - this.deps.clock().getTime();
    if (delay > 0) return this.arm(Math.min(delay, MAX_IDLE_MS));
    // It became due while we were looking: go again.
    this.again = true;
  }

  private arm(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.wake();
    }, ms);
    this.timer.unref();
  }

  /** Stops picking, waits up to `graceMs` for attempts in flight, then aborts and releases the rest. */
  async stop(graceMs: number): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    const all = () => Promise.all([...this.running.values()].map((r) => r.done));
    // Attempts may start while we wait: a tick's lease or rows handed over before the stop.
    const deadline = Date.now() + graceMs;
    await this.ticked;
    while (this.running.size > 0 && Date.now() < deadline) {
      let timeout: NodeJS.Timeout | undefined;
      await Promise.race([all(), new Promise((r) => (timeout = setTimeout(r, deadline - Date.now())))]);
      clearTimeout(timeout);
    }
    while (this.running.size > 0) {
      const left = [...this.running.values()];
      this.deps.log.warn({ attempts: left.length }, 'shutdown grace elapsed: releasing attempts still in flight');
      for (const r of left) r.abort.abort();
      await all();
    }
  }
}
