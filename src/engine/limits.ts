// How many attempts may start now: a global bound on sends in flight, a bound per endpoint (so one slow
// receiver cannot hold every slot), and an endpoint's own rate limit (a token bucket holding up to one
// second's worth). The scheduler may lease a few rounds ahead of the sends (LEASE_AHEAD), so a slot
// freed by a finished send starts the next delivery at once, without waiting for a lease to commit.
// Pure bookkeeping.
import type { StoredEndpoint } from '../store/records.js';

/** An endpoint's id, or null for deliveries to an event's own recipients (notify.email). */
export type EndpointKey = string | null;

type RateLimit = NonNullable<StoredEndpoint['rate_limit']>;

/**
 * Leases held per slot: the one sending and up to three waiting. A lease lands only with a commit (and
 * commits are at least a few milliseconds apart), so a fast receiver's slots must not run dry meanwhile.
 */
const LEASE_AHEAD = 4;

interface Bucket {
  tokens: number;
  at: number;
  perSecond: number;
}

interface Count {
  held: number;
  sending: number;
}

export class Limits {
  private readonly total: Count = { held: 0, sending: 0 };
  private readonly perEndpoint = new Map<EndpointKey, Count>();
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly maxConcurrent: number,
    private readonly maxPerEndpoint: number,
  ) {}

  /** Every lease slot is taken: nothing more can be leased until sends end. */
  get full(): boolean {
    return this.total.held >= LEASE_AHEAD * this.maxConcurrent;
  }

  /**
   * How many more deliveries of this endpoint may be leased at `nowMs`. A rate-limited endpoint leases
   * only what its tokens allow now (its tokens are taken at the lease), and never ahead.
   */
  leaseRoom(key: EndpointKey, rate: RateLimit | null | undefined, nowMs: number): number {
    const c = this.count(key);
    if (key !== null && rate) return Math.max(0, Math.min(this.maxPerEndpoint - c.held, Math.floor(this.bucket(key, rate, nowMs).tokens)));
    return Math.max(0, Math.min(LEASE_AHEAD * this.maxConcurrent - this.total.held, LEASE_AHEAD * this.maxPerEndpoint - c.held));
  }

  /** Takes `count` lease slots (and tokens) for deliveries about to be leased. */
  take(key: EndpointKey, count: number, rate: RateLimit | null | undefined, nowMs: number): void {
    this.total.held += count;
    this.count(key, true).held += count;
    if (key !== null && rate) this.bucket(key, rate, nowMs).tokens -= count;
  }

  /** Gives back slots a lease did not fill (and their tokens). */
  unused(key: EndpointKey, count: number): void {
    this.total.held -= count;
    this.count(key, true).held -= count;
    this.tidy(key);
    const bucket = key === null ? undefined : this.buckets.get(key);
    if (bucket) bucket.tokens = Math.min(bucket.tokens + count, Math.max(1, bucket.perSecond));
  }

  /** Whether a leased delivery of this endpoint may start sending now. */
  maySend(key: EndpointKey): boolean {
    return this.total.sending < this.maxConcurrent && this.count(key).sending < this.maxPerEndpoint;
  }

  startSend(key: EndpointKey): void {
    this.total.sending++;
    this.count(key, true).sending++;
  }

  /** A send ended: its slot and its lease are free. */
  sent(key: EndpointKey): void {
    const c = this.count(key, true);
    this.total.sending--;
    this.total.held--;
    c.sending--;
    c.held--;
    this.tidy(key);
  }

  /** Milliseconds until the endpoint's rate limit allows one more attempt (0: it does now). */
  waitForToken(key: string, rate: RateLimit, nowMs: number): number {
    const b = this.bucket(key, rate, nowMs);
    return b.tokens >= 1 ? 0 : Math.ceil(((1 - b.tokens) / b.perSecond) * 1000);
  }

  private count(key: EndpointKey, create = false): Count {
    let c = this.perEndpoint.get(key);
    if (!c) {
      c = { held: 0, sending: 0 };
      if (create) this.perEndpoint.set(key, c);
    }
    return c;
  }

  private tidy(key: EndpointKey): void {
    if (this.perEndpoint.get(key)?.held === 0) this.perEndpoint.delete(key);
  }

  private bucket(key: string, rate: RateLimit, nowMs: number): Bucket {
    const capacity = Math.max(1, rate.per_second);
    let b = this.buckets.get(key);
    if (!b || b.perSecond !== rate.per_second) {
      b = { tokens: capacity, at: nowMs, perSecond: rate.per_second };
      this.buckets.set(key, b);
    }
    b.tokens = Math.min(capacity, b.tokens + ((nowMs - b.at) / 1000) * b.perSecond);
    b.at = nowMs;
    return b;
  }
}
