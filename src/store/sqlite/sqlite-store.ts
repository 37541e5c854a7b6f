// The SQLite store: one file, WAL, one connection; every write goes through the group commit.
import { sql } from 'kysely';
import type { Store, StoreHooks, StoreReads, Tx, Unit } from '../store.js';
import { verifyLedger } from '../verify.js';
import { type Db, type OpenedDatabase, migrateToLatest, openDatabase } from './connection.js';
import { GroupCommit } from './group-commit.js';
import * as activity from './queries/activity.js';
import * as apiKeys from './queries/api-keys.js';
import * as deliveries from './queries/deliveries.js';
import * as endpoints from './queries/endpoints.js';
import * as events from './queries/events.js';
import * as idempotency from './queries/idempotency.js';
import * as ledger from './queries/ledger.js';
import * as requeue from './queries/requeue.js';
import { rebuildCheck } from './rebuild.js';

export interface SqliteStoreOptions extends StoreHooks {
  path: string;
  synchronous?: 'FULL' | 'NORMAL' | 'EXTRA';
  /** How long a write waits for another process's lock before failing as unavailable. */
  lockWaitMs?: number | undefined;
}

function reads(db: Db): StoreReads {
  return {
    apiKeys: {
      findActiveKeyByHash: (h) => apiKeys.findActiveKeyByHash(db, h),
      getKey: (id) => apiKeys.getKey(db, id),
      listKeys: () => apiKeys.listKeys(db),
    },
    deliveries: {
      listDeliveries: (f) => deliveries.listDeliveries(db, f),
      getDelivery: (id) => deliveries.getDelivery(db, id),
      deliveriesOfEvent: (id) => deliveries.deliveriesOfEvent(db, id),
      attemptsOf: (id) => deliveries.attemptsOf(db, id),
      endpointsDueBetween: (after, upTo) => deliveries.endpointsDueBetween(db, after, upTo),
      nextDueAfter: (after) => deliveries.nextDueAfter(db, after),
      expiredLeases: (now, limit) => deliveries.expiredLeases(db, now, limit),
      queueStats: (now, countUpTo) => deliveries.queueStats(db, now, countUpTo),
      recentFailures: (id, window, limit) => deliveries.recentFailures(db, id, window, limit),
      countRequeueCandidates: (sel) => requeue.countRequeueCandidates(db, sel),
    },
    requeueJobs: {
      getJob: (id) => requeue.getRequeueJob(db, id),
      listJobs: (f) => requeue.listRequeueJobs(db, f),
      runningJobs: () => requeue.runningRequeueJobs(db),
    },
    activity: {
      between: (since, until, endpointId) => activity.activityBetween(db, since, until, endpointId),
    },
    endpoints: {
      getEndpoint: (id) => endpoints.getEndpoint(db, id),
      activeEndpoints: () => endpoints.activeEndpoints(db),
      listEndpoints: (f) => endpoints.listEndpoints(db, f),
      failingEndpoints: (since, dead) => endpoints.failingEndpoints(db, since, dead),
      troubledEndpoints: (limit) => endpoints.troubledEndpoints(db, limit),
      hasSealedValues: () => endpoints.hasSealedValues(db),
    },
    events: {
      listEvents: (f) => events.listEvents(db, f),
      getEvent: (id) => events.getEvent(db, id),
      eventsByIds: (ids) => events.eventsByIds(db, ids),
      eventIdsByIdempotencyKey: (key) => idempotency.eventIdsByKey(db, key),
    },
    idempotency: {
      findIdempotency: (apiKeyId, key) => idempotency.findIdempotency(db, apiKeyId, key),
    },
    ledger: {
      entriesAfter: (after, limit) => ledger.entriesAfter(db, after, limit),
      ledgerHead: () => ledger.ledgerHead(db),
    },
  };
}

export class SqliteStore implements Store {
  readonly read: StoreReads;
  private readonly writer: GroupCommit;
  private closed = false;

  private constructor(private readonly opened: OpenedDatabase, opts: SqliteStoreOptions) {
    this.read = reads(opened.db);
    this.writer = new GroupCommit(opened.db, opts, opts.lockWaitMs);
  }

  /** Opens (creating it if need be) and migrates the database. */
  static async open(opts: SqliteStoreOptions): Promise<SqliteStore> {
    const opened = openDatabase({ path: opts.path, synchronous: opts.synchronous ?? 'FULL' });
    try {
      // At start nothing else runs yet: migrations may wait for another process's lock inside SQLite.
      opened.raw.pragma(`busy_timeout = ${opts.lockWaitMs ?? 5000}`);
      await migrateToLatest(opened.db);
      opened.raw.pragma('busy_timeout = 0');
    } catch (err) {
      await opened.db.destroy();
      throw err;
    }
    return new SqliteStore(opened, opts);
  }

  transact<T>(unit: Unit<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error('store is closed'));
    return this.writer.write(unit as (tx: Tx) => Promise<T>);
  }

  verify() {
    return verifyLedger(this.read.ledger.entriesAfter);
  }

  rebuildCheck() {
    return rebuildCheck(this.opened.db);
  }

  /** The write lock can be taken now (another process holding it, or a broken file, is not ready). */
  async ready(): Promise<boolean> {
    if (this.closed) return false;
    try {
      await this.opened.db.connection().execute(async (conn) => {
        await sql`BEGIN IMMEDIATE`.execute(conn);
        await sql`ROLLBACK`.execute(conn);
      });
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writer.drain();
    await this.opened.db.destroy();
  }
}
