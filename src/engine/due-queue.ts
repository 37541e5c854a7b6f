// The scheduler's local queue: which endpoints have deliveries due. The deliveries themselves stay in
// the store, which hands out each endpoint's oldest due rows when they are leased; here is only the
// short list of endpoints worth asking, so the cost of a delivery does not grow with the backlog or
// with how it is spread over endpoints.
//
// An endpoint joins the queue when committed work names it (a new event's deliveries, a digest, an
// endpoint enabled), or when a scan of what came due since the last scan finds it (retries coming
// due, work from another process). Every waiting delivery is scanned once, as it comes due; work that
// may have come due before the last scan without naming its endpoint (a redelivery) moves the scan
// back to that time. An endpoint leaves the queue when a lease finds fewer due rows than it asked for.
import type { LedgerEntry } from '../domain/ledger-entry.js';
import type { EndpointKey } from './limits.js';

export interface DueReads {
  endpointsDueBetween(after: Date | null, upTo: Date): Promise<EndpointKey[]>;
  nextDueAfter(after: Date): Promise<Date | null>;
}

export class DueQueue {
  /** In the order they should be served next (round robin). */
  private readonly endpoints = new Set<EndpointKey>();
  /** How often committed work named each endpoint: a lease's finding is stale once this moved. */
  private readonly news = new Map<EndpointKey, number>();
  /** Waiting deliveries due at or before this were seen by a scan (null: none yet). */
  private scannedUpTo: Date | null = null;
  /** The next scan starts here instead, when earlier: something came due before scannedUpTo unseen. */
  private rewoundTo: Date | null = null;

  constructor(private readonly reads: DueReads) {}

  /** Endpoints with due work, in serving order. */
  list(): EndpointKey[] {
    return [...this.endpoints];
  }

  add(key: EndpointKey): void {
    this.endpoints.add(key);
  }

  /** A mark to pass to drop(): work named for the endpoint after it keeps the endpoint queued. */
  newsOf(key: EndpointKey): number {
    return this.news.get(key) ?? 0;
  }

  /** The endpoint had nothing more due when a lease asked (and nothing was named for it since `seen`). */
  drop(key: EndpointKey, seen?: number): void {
    if (seen === undefined || seen === this.newsOf(key)) this.endpoints.delete(key);
  }

  /** The endpoint was served: it goes to the back of the line. */
  served(key: EndpointKey): void {
    if (this.endpoints.delete(key)) this.endpoints.add(key);
  }

  /** Something became due at `at` for an endpoint not named: the next scan starts before it. */
  rewind(at: Date): void {
    const before = new Date(at.getTime() - 1);
    if (!this.rewoundTo || before < this.rewoundTo) this.rewoundTo = before;
  }

  /** Takes in what committed entries make due; true when the loop should look again. */
  note(entries: readonly LedgerEntry[], now: Date): boolean {
    let due = false;
    const add = (key: EndpointKey) => {
      this.add(key);
      this.news.set(key, this.newsOf(key) + 1);
      due = true;
    };
    // Due now: the next scan starts before it. Due later: the loop looks at its timer again.
    const rewind = (at: string | null) => {
      if (at === null) return;
      if (new Date(at) <= now) this.rewind(new Date(at));
      due = true;
    };
    for (const e of entries) {
      switch (e.kind) {
        case 'event.received':
          for (const d of e.body.deliveries) if (d.next_attempt_at !== null) add(d.endpoint_id);
          break;
        case 'digest.created':
          add(e.body.delivery.endpoint_id);
          break;
        case 'endpoint.enabled':
          add(e.body.id);
          break;
        case 'deliveries.requeued':
          rewind(e.body.next_attempt_at);
          break;
        case 'attempt.recorded':
        case 'attempt.interrupted':
          rewind(e.body.next_attempt_at);
          break;
        default:
          break;
      }
    }
    return due;
  }

  /** Adds the endpoints whose deliveries came due since the last scan. */
  async scan(now: Date): Promise<void> {
    let from = this.scannedUpTo;
    const rewound = this.rewoundTo;
    if (from && rewound && rewound < from) from = rewound;
    if (from && now <= from) return;
    this.rewoundTo = null;
    try {
      for (const key of await this.reads.endpointsDueBetween(from, now)) this.endpoints.add(key);
    } catch (err) {
      if (rewound) this.rewind(new Date(rewound.getTime() + 1)); // looked at again next time
      throw err;
    }
    this.scannedUpTo = now;
  }

  /** When the next waiting delivery comes due (after what was scanned); null when none waits. */
  nextDueAt(): Promise<Date | null> {
    return this.reads.nextDueAfter(this.scannedUpTo ?? new Date(0));
  }
}
