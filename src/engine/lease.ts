// The unit of work that leases due deliveries: for each endpoint the scheduler asks for, its oldest due
// rows (read inside the transaction, so two leases never take the same row), all of them named in one
// attempts.leased entry with their attempt numbers and lease deadlines.
import { DEFAULT_TIMEOUT_MS } from '../domain/endpoint.js';
import type { Lease } from '../domain/ledger-entry.js';
import type { EventRecord } from '../domain/event.js';
import type { RecordingContext } from '../services/record-event.js';
import { SYSTEM } from '../services/context.js';
import type { DueDelivery, StoredEndpoint } from '../store/records.js';
import type { Tx } from '../store/store.js';
import type { EndpointKey } from './limits.js';

export interface LeaseRequest {
  endpoint: EndpointKey;
  max: number;
}

export interface Leased {
  /** The delivery as leased (its attempts counting this one). */
  delivery: DueDelivery;
  n: number;
  leaseUntil: string;
  /** The endpoint as the lease saw it (null for an event's own recipients). */
  endpoint: StoredEndpoint | null;
  /** The delivery's event, read after the lease with the rest of the batch (absent for digests). */
  event?: EventRecord | undefined;
}

export async function leaseDue(tx: Tx, ctx: RecordingContext, requests: readonly LeaseRequest[], leaseMarginMs: number): Promise<Leased[]> {
  const now = tx.now();
  const leases: Lease[] = [];
  const leased: Leased[] = [];
  for (const r of requests) {
    // Deliveries to a disabled (or archived, or missing) endpoint wait.
    const endpoint = r.endpoint === null ? null : await ctx.endpoints.getActive(r.endpoint, () => tx.activeEndpoints());
    if (endpoint === undefined) continue;
    const leaseUntil = new Date(now.getTime() + (endpoint?.timeout_ms ?? DEFAULT_TIMEOUT_MS) + leaseMarginMs).toISOString();
    for (const d of await tx.dueDeliveries(r.endpoint, now, r.max)) {
      const n = d.attempts + 1;
      leases.push({ delivery_id: d.id, n, lease_until: leaseUntil });
      leased.push({ delivery: { ...d, attempts: n }, n, leaseUntil, endpoint });
    }
  }
  if (leases.length > 0) await tx.append({ kind: 'attempts.leased', stream: 'scheduler', actor: SYSTEM.name, body: { leases } });
  return leased;
}
