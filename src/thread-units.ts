// What the writer thread runs (see store/threaded-writer.ts): the hot units of work, ingest and the
// lease and record of attempts, so that they share its group commits. The thread imports this
// module and calls createThreadUnits once; app.ts runs the same units inline when there is no thread.
import { type FinishedAttempt, finishAndLeaseUnit, leaseUnit } from './engine/attempt-units.js';
import { EndpointCache } from './services/caches.js';
import type { Principal } from './services/context.js';
import { type IngestItem, ingestUnit } from './services/ingest-units.js';
import type { RecordingContext } from './services/record-event.js';
import type { WriteLock } from './store/write-lock.js';
import type { WriteTx } from './store/write-tx.js';

/** The units by name, over `ctx` (the thread's own endpoint cache, or the main thread's). */
export function threadUnits(ctx: RecordingContext) {
  return {
    ingest: (tx: WriteTx, principal: Principal, items: IngestItem[]) => ingestUnit(tx, ctx, principal, items),
    lease: (tx: WriteTx, deliveryIds: string[], leaseMarginMs: number) => leaseUnit(tx, ctx, deliveryIds, leaseMarginMs),
    finishAndLease: (tx: WriteTx, attempt: FinishedAttempt, nextIds: string[], leaseMarginMs: number) =>
      finishAndLeaseUnit(tx, ctx, attempt, nextIds, leaseMarginMs),
  };
}

export type ThreadUnits = ReturnType<typeof threadUnits>;

/** Called by the writer thread: its endpoint cache is dropped whenever a writer changes endpoints. */
export function createThreadUnits(lock: WriteLock): ThreadUnits {
  return threadUnits({ endpoints: new EndpointCache(() => lock.endpointsGeneration) });
}
