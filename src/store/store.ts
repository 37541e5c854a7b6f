// The store: herald's only door to its database. Everything above it (API, engine, CLI) uses these
// methods and never sees SQL; a PostgreSQL store for multi-instance deployments implements the same.
import type { LedgerEntry } from '../domain/ledger-entry.js';
import { type Db, migrateToLatest, openDatabase } from './database.js';
import { type CommitInfo, LedgerWriter, type WriteUnit } from './ledger-writer.js';
import * as apiKeys from './queries/api-keys.js';
import * as deliveries from './queries/deliveries.js';
import * as endpoints from './queries/endpoints.js';
import * as events from './queries/events.js';
import * as idempotency from './queries/idempotency.js';
import * as ledger from './queries/ledger.js';
import { rebuildCheck } from './rebuild.js';
import { type ThreadUnit, ThreadedWriter } from './threaded-writer.js';
import { verifyLedger } from './verify.js';
import { WriteLock } from './write-lock.js';

export interface StoreOptions {
  path: string;
  synchronous?: 'FULL' | 'NORMAL' | 'EXTRA';
  clock?: () => Date;
  /** Called after every commit with the entries it made durable and how many units of work it held. */
  onCommit?: (info: CommitInfo) => void;
  /** Called when another process wrote to the same database (caches must be dropped). */
  onForeignWrite?: () => void;
  /**
   * Called inside the transaction for each appended entry (it may still roll back); for the writer
   * thread's entries, once they are committed.
   */
  onAppend?: (entry: LedgerEntry) => void;
  /**
   * Start a writer thread that runs the units of this module (see threaded-writer.ts); its commits
   * reach `onCommit` too. Without it, every unit runs on the calling thread.
   */
  writerThread?: { unitsModule: URL };
}

type Bound<M> = { [K in keyof M]: M[K] extends (db: Db, ...args: infer A) => infer R ? (...args: A) => R : never };

function bind<M extends Record<string, unknown>>(db: Db, mod: M): Bound<M> {
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(mod)) {
    if (typeof fn === 'function') out[name] = (...args: unknown[]) => (fn as (...a: unknown[]) => unknown)(db, ...args);
  }
  return out as Bound<M>;
}

function readModels(db: Db) {
  return {
    apiKeys: bind(db, apiKeys),
    deliveries: bind(db, deliveries),
    endpoints: bind(db, endpoints),
    events: bind(db, events),
    idempotency: bind(db, idempotency),
    ledger: bind(db, ledger),
  };
}

export type ReadModels = ReturnType<typeof readModels>;

export class Store {
  readonly read: ReadModels;
  private readonly writer: LedgerWriter;
  private closed = false;

  private constructor(
    private readonly db: Db,
    private readonly raw: { close(): void; pragma(s: string): unknown },
    opts: StoreOptions,
    private readonly lock: WriteLock | undefined,
    /** The writer thread, when there is one. */
    private readonly thread: ThreadedWriter<Record<string, ThreadUnit>> | undefined,
  ) {
    this.read = readModels(db);
    this.writer = new LedgerWriter(db, {
      clock: opts.clock ?? (() => new Date()),
      onCommit: opts.onCommit,
      onForeignWrite: opts.onForeignWrite,
      onAppend: (entry) => {
        // The writer thread's endpoint cache is dropped when endpoints change (read under the lock).
        if (lock && entry.kind.startsWith('endpoint.')) lock.bumpEndpointsGeneration();
        opts.onAppend?.(entry);
      },
      lock,
    });
  }

  static async open(opts: StoreOptions): Promise<Store> {
    const synchronous = opts.synchronous ?? 'FULL';
    const { db, raw } = openDatabase({ path: opts.path, synchronous });
    let thread: ThreadedWriter<Record<string, ThreadUnit>> | undefined;
    let lock: WriteLock | undefined;
    try {
      await migrateToLatest(db);
      if (opts.writerThread) {
        lock = new WriteLock();
        thread = await ThreadedWriter.start({
          path: opts.path,
          synchronous,
          lock,
          unitsModule: opts.writerThread.unitsModule,
          // This thread hears of the writer thread's entries only once they are committed.
          onCommit: (info) => {
            for (const entry of info.entries) opts.onAppend?.(entry);
            opts.onCommit?.(info);
          },
          onForeignWrite: opts.onForeignWrite,
        });
      }
    } catch (err) {
      await db.destroy();
      throw err;
    }
    return new Store(db, raw, opts, lock, thread);
  }

  /** Queues a unit of work for the next group commit; resolves once it is durable. */
  write<T>(unit: WriteUnit<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error('store is closed'));
    return this.writer.write(unit);
  }

  /** Bumped whenever either writer changes endpoints (or rolls back after reading them): caches compare it. */
  get endpointsGeneration(): number {
    return this.lock?.endpointsGeneration ?? 0;
  }

  /**
   * Runs a unit of the writer thread's module by name, with plain-data arguments; resolves once it is
   * durable. Undefined when the store has no writer thread (the caller runs the unit with write()).
   */
  get threaded(): ThreadedWriter<Record<string, ThreadUnit>> | undefined {
    return this.closed ? undefined : this.thread;
  }

  verify() {
    return verifyLedger(this.db);
  }

  rebuildCheck() {
    return rebuildCheck(this.db);
  }

  /** Readiness: the database answers and accepts a write lock. */
  async writable(): Promise<boolean> {
    try {
      this.raw.pragma('user_version');
      return !this.closed && !this.thread?.failed;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.thread?.close();
    await this.writer.drain();
    await this.db.destroy();
  }
}
