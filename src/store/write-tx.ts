// What a unit of work sees inside the group-commit transaction: append entries, read current state,
// and run code once the transaction is durable.
import type { EntryDraft, EntryKind, LedgerEntry } from '../domain/ledger-entry.js';
import type { Db } from './database.js';
import { countKeys } from './queries/api-keys.js';
import { type DeliveryRow, getDelivery, heldDeliveries, recoverableDeliveries } from './queries/deliveries.js';
import { type StoredEndpoint, activeEndpoints, getEndpoint } from './queries/endpoints.js';
import { type StoredIdempotency, findIdempotency } from './queries/idempotency.js';

type AppendFn = <K extends EntryKind>(draft: EntryDraft<K>) => Promise<LedgerEntry<K>>;

export class WriteTx {
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

  /** Runs `fn` after the transaction commits (never if it rolls back). */
  afterCommit(fn: () => void): void {
    this.after.push(fn);
  }

  runAfterCommit(): void {
    for (const fn of this.after) fn();
  }

  findIdempotency(apiKeyId: string, key: string): Promise<StoredIdempotency | undefined> {
    return findIdempotency(this.conn, apiKeyId, key);
  }

  getDelivery(id: string): Promise<DeliveryRow | undefined> {
    return getDelivery(this.conn, id);
  }

  getEndpoint(id: string): Promise<StoredEndpoint | undefined> {
    return getEndpoint(this.conn, id);
  }

  activeEndpoints(): Promise<StoredEndpoint[]> {
    return activeEndpoints(this.conn);
  }

  recoverableDeliveries(endpointId: string, since: string, until: string, after: [number, number], limit: number) {
    return recoverableDeliveries(this.conn, endpointId, since, until, after, limit);
  }

  heldDeliveries(endpointId: string, limit: number): Promise<DeliveryRow[]> {
    return heldDeliveries(this.conn, endpointId, limit);
  }

  countKeys(): Promise<number> {
    return countKeys(this.conn);
  }
}
