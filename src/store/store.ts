// What herald may ask of a store: group-committed units of work that append ledger entries (their
// projections applied in the same transaction), typed reads, and the ledger's own checks. The SQLite
// store (store/sqlite/) implements it; a PostgreSQL store will implement the same and pass the same
// contract suite (test/contract/).
import type { EntryDraft, EntryKind, LedgerEntry } from '../domain/ledger-entry.js';
import type {
  ActivityCount,
  ApiKeyView,
  AttemptView,
  Delivery,
  DeliveryFilters,
  DueDelivery,
  EndpointFilters,
  EventFilters,
  FailedAttempt,
  JobFilters,
  Page,
  QueueStats,
  RebuildReport,
  RecoveryPosition,
  RequeueJob,
  RequeueSelection,
  RequeueStep,
  StoredEndpoint,
  StoredEntry,
  StoredIdempotency,
  VerifyResult,
} from './records.js';
import type { EventRecord } from '../domain/event.js';

/** A unit of work: everything it appends commits together, or not at all. */
export type Unit<T> = (tx: Tx) => Promise<T>;

/** What a unit sees inside its transaction: the clock, append, and reads of current state. */
export interface Tx {
  now(): Date;
  /** Appends an entry to the chain and applies its projection. */
  append<K extends EntryKind>(draft: EntryDraft<K>): Promise<LedgerEntry<K>>;
  /** Runs `fn` once the transaction is durable (never if it rolls back). */
  afterCommit(fn: () => void): void;

  getDelivery(id: string): Promise<Delivery | undefined>;
  /** For each of these deliveries still leased (delivering), the number of its attempt in flight. */
  attemptsInFlight(ids: readonly string[]): Promise<Map<string, number>>;
  /** Waiting deliveries of an endpoint (null: ad-hoc recipients) due at `now`, oldest first. */
  dueDeliveries(endpointId: string | null, now: Date, limit: number): Promise<DueDelivery[]>;
  /**
   * Up to `limit` deliveries a requeue may touch (see RequeueSelection), in creation order, after a
   * position; a step may look at a bounded part of the table only, so it can find fewer than `limit`
   * (even none) while more remain: `next` says where to go on, null once nothing is left.
   */
  requeueCandidates(sel: RequeueSelection, after: RecoveryPosition, limit: number): Promise<RequeueStep>;
  getRequeueJob(id: string): Promise<RequeueJob | undefined>;
  heldDeliveries(endpointId: string, limit: number): Promise<Delivery[]>;
  getEndpoint(id: string): Promise<StoredEndpoint | undefined>;
  activeEndpoints(): Promise<StoredEndpoint[]>;
  getEvent(id: string): Promise<EventRecord | undefined>;
  findIdempotency(apiKeyId: string, key: string): Promise<StoredIdempotency | undefined>;
  countKeys(): Promise<number>;
}

export interface StoreReads {
  apiKeys: {
    findActiveKeyByHash(keyHash: string): Promise<ApiKeyView | undefined>;
    getKey(id: string): Promise<ApiKeyView | undefined>;
    listKeys(): Promise<ApiKeyView[]>;
  };
  deliveries: {
    listDeliveries(f: DeliveryFilters): Promise<Page<Delivery>>;
    getDelivery(id: string): Promise<Delivery | undefined>;
    deliveriesOfEvent(eventId: string): Promise<Delivery[]>;
    /** Every attempt, oldest first, the one in flight included. */
    attemptsOf(deliveryId: string): Promise<AttemptView[]>;
    /** The endpoints (null: ad-hoc recipients) with waiting deliveries that came due in (after, upTo]. */
    endpointsDueBetween(after: Date | null, upTo: Date): Promise<Array<string | null>>;
    /** The earliest due time after `after` of a waiting delivery; null when none. */
    nextDueAfter(after: Date): Promise<Date | null>;
    expiredLeases(now: Date, limit: number): Promise<Delivery[]>;
    /** Deliveries waiting and in flight, and the oldest due; `countUpTo` caps the count of waiting ones. */
    queueStats(now: Date, countUpTo?: number): Promise<QueueStats>;
    /** The latest failed attempts among an endpoint's most recent `window` deliveries, newest first. */
    recentFailures(endpointId: string, window: number, limit: number): Promise<FailedAttempt[]>;
    /** How many deliveries a requeue with this selection would touch now. */
    countRequeueCandidates(sel: RequeueSelection): Promise<number>;
  };
  requeueJobs: {
    getJob(id: string): Promise<RequeueJob | undefined>;
    /** Newest first. */
    listJobs(f: JobFilters): Promise<Page<RequeueJob>>;
    /** Jobs not finished (left running by a process that stopped), oldest first. */
    runningJobs(): Promise<RequeueJob[]>;
  };
  activity: {
    /** Counts per minute in [since, until), oldest first; one endpoint's only when it is given. */
    between(since: Date, until: Date, endpointId?: string): Promise<ActivityCount[]>;
  };
  endpoints: {
    getEndpoint(id: string): Promise<StoredEndpoint | undefined>;
    activeEndpoints(): Promise<StoredEndpoint[]>;
    listEndpoints(f: EndpointFilters): Promise<Page<StoredEndpoint>>;
    /** Whether any endpoint holds a sealed value (a signing secret, header values, an SMTP URL). */
    hasSealedValues(): Promise<boolean>;
    /** Enabled endpoints failing since at or before `failingSince`, or with this many dead deliveries in a row. */
    failingEndpoints(failingSince: Date, consecutiveDead: number): Promise<StoredEndpoint[]>;
    /** Live endpoints disabled, failing now, or with dead deliveries in a row; oldest first, at most `limit`. */
    troubledEndpoints(limit: number): Promise<StoredEndpoint[]>;
  };
  events: {
    listEvents(f: EventFilters): Promise<Page<EventRecord>>;
    getEvent(id: string): Promise<EventRecord | undefined>;
    eventsByIds(ids: readonly string[]): Promise<EventRecord[]>;
    /** The events ingested with this idempotency key, by any API key. */
    eventIdsByIdempotencyKey(key: string): Promise<string[]>;
  };
  idempotency: {
    findIdempotency(apiKeyId: string, key: string): Promise<StoredIdempotency | undefined>;
  };
  ledger: {
    entriesAfter(afterSeq: number, limit: number): Promise<StoredEntry[]>;
    ledgerHead(): Promise<{ seq: number; hash: string } | undefined>;
  };
}

export interface Store {
  readonly read: StoreReads;
  /** Queues a unit for the next group commit; resolves once it is durable, rejects if it failed (alone). */
  transact<T>(unit: Unit<T>): Promise<T>;
  /** Recomputes the hash chain. */
  verify(): Promise<VerifyResult>;
  /** Replays the ledger into fresh projections and compares them with the live ones. */
  rebuildCheck(): Promise<RebuildReport>;
  /** The store answers and can take writes. */
  ready(): Promise<boolean>;
  /** Lets queued units commit, then closes. */
  close(): Promise<void>;
}

/** What the rest of herald hears from a store. */
export interface StoreHooks {
  clock?: () => Date;
  /** After every commit, with the entries it made durable and how many units it held. */
  onCommit?: (entries: LedgerEntry[], units: number) => void;
  /** A transaction (or a unit that had appended) rolled back: anything read inside it may be wrong. */
  onRollback?: () => void;
  /**
   * An entry after which the transaction commits before running more units: units that follow would
   * read caches that only its commit drops (endpoint changes, for matching).
   */
  endsTransaction?: (entry: LedgerEntry) => boolean;
}
