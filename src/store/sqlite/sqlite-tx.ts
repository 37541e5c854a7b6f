// A unit of work's view of the SQLite transaction it runs in (the Tx of store.ts).
import type { EntryDraft, EntryKind, LedgerEntry } from '../../domain/ledger-entry.js';
import type { RecoveryPosition, RequeueSelection } from '../records.js';
import type { Tx } from '../store.js';
import type { Db } from './connection.js';
import { countKeys } from './queries/api-keys.js';
import { attemptsInFlight, dueDeliveries, getDelivery, heldDeliveries } from './queries/deliveries.js';
import { activeEndpoints, getEndpoint } from './queries/endpoints.js';
import { getEvent } from './queries/events.js';
import { findIdempotency } from './queries/idempotency.js';
import { getRequeueJob, requeueCandidates } from './queries/requeue.js';

type AppendFn = <K extends EntryKind>(draft: EntryDraft<K>) => Promise<LedgerEntry<K>>;

export class SqliteTx implements Tx {
  readonly appended: LedgerEntry[] = [];
  private readonly after: Array<() => void> = [];

  constructor(
    private readonly conn: Db,
    private readonly clock: () => Date,
    private readonly appendFn: AppendFn,
  ) {}

  now(): Date {
    return this.clock();
  }

  async append<K extends EntryKind>(draft: EntryDraft<K>): Promise<LedgerEntry<K>> {
    const entry = await this.appendFn(draft);
    this.appended.push(entry as LedgerEntry);
    return entry;
  }

  afterCommit(fn: () => void): void {
    this.after.push(fn);
  }

  runAfterCommit(): void {
    for (const fn of this.after) fn();
  }

  getDelivery(id: string) {
    return getDelivery(this.conn, id);
  }

  attemptsInFlight(ids: readonly string[]) {
    return attemptsInFlight(this.conn, ids);
  }

  dueDeliveries(endpointId: string | null, now: Date, limit: number) {
    return dueDeliveries(this.conn, endpointId, now, limit);
  }

  requeueCandidates(sel: RequeueSelection, after: RecoveryPosition, limit: number) {
    return requeueCandidates(this.conn, sel, after, limit);
  }

  getRequeueJob(id: string) {
    return getRequeueJob(this.conn, id);
  }

  heldDeliveries(endpointId: string, limit: number) {
    return heldDeliveries(this.conn, endpointId, limit);
  }

  getEndpoint(id: string) {
    return getEndpoint(this.conn, id);
  }

  activeEndpoints() {
    return activeEndpoints(this.conn);
  }

  getEvent(id: string) {
    return getEvent(this.conn, id);
  }

  findIdempotency(apiKeyId: string, key: string) {
    return findIdempotency(this.conn, apiKeyId, key);
  }

  countKeys() {
    return countKeys(this.conn);
  }
}
