// How many attempts may start now: a global bound on attempts in flight, a bound per endpoint (so one
// slow receiver cannot hold every slot), and an endpoint's own rate limit (a token bucket holding up to
// one second's worth). Pure bookkeeping: the scheduler takes slots before leasing and gives them back
// as sends end.
import type { StoredEndpoint } from '../store/records.js';

/** An endpoint's id, or null for deliveries to an event's own recipients (notify.email). */
export type EndpointKey = string | null;

type RateLimit = NonNullable<StoredEndpoint['rate_limit']>;

interface Bucket {
  tokens: number;
  at: number;
  perSecond: number;
}

export class Limits {
  private inFlight = 0;
  private readonly perEndpoint = new Map<EndpointKey, number>();
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly maxConcurrent: number,
    private readonly maxPerEndpoint: number,
  ) {}

  get total(): number {
    return this.inFlight;
  }

  /** How many attempts to this endpoint may start at `nowMs`. */
  room(key: EndpointKey, rate: RateLimit | null | undefined, nowMs: number): number {
    let n = Math.min(this.maxConcurrent - this.inFlight, this.maxPerEndpoint - (this.perEndpoint.get(key) ?? 0));
    if (key !== null && rate) n = Math.min(n, Math.floor(this.bucket(key, rate, nowMs).tokens));
    return Math.max(0, n);
  }

  /** Takes `count` slots (and tokens) for attempts about to be leased. */
  take(key: EndpointKey, count: number, rate: RateLimit | null | undefined, nowMs: number): void {
    this.inFlight += count;
    this.perEndpoint.set(key, (this.perEndpoint.get(key) ?? 0) + count);
    if (key !== null && rate) this.bucket(key, rate, nowMs).tokens -= count;
  }

  /** Gives back slots: sends that ended, or slots taken for rows a lease did not find (their tokens too). */
  release(key: EndpointKey, count: number, unused = false): void {
    this.inFlight -= count;
    const left = (this.perEndpoint.get(key) ?? count) - count;
    if (left <= 0) this.perEndpoint.delete(key);
    else this.perEndpoint.set(key, left);
    const bucket = key === null ? undefined : this.buckets.get(key);
    if (unused && bucket) bucket.tokens = Math.min(bucket.tokens + count, Math.max(1, bucket.perSecond));
  }

  /** Milliseconds until the endpoint's rate limit allows one more attempt (0: it does now). */
  waitForToken(key: string, rate: RateLimit, nowMs: number): number {
    const b = this.bucket(key, rate, nowMs);
    return b.tokens >= 1 ? 0 : Math.ceil(((1 - b.tokens) / b.perSecond) * 1000);
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
