// Group commit: every write to herald is a unit of work queued here; the writer runs all units that
// are waiting in one BEGIN IMMEDIATE … COMMIT, so many requests share one fsync. Each unit runs in its
// own savepoint (a failing unit rolls back alone) and appends ledger entries whose projections are
// applied in the same transaction.
import { CompiledQuery, type Insertable } from 'kysely';
import { canonicalJson } from '../domain/canonical-json.js';
import { HeraldError } from '../domain/errors.js';
import {
  GENESIS_HASH,
  entryHashFromCanonicalBody,
  type EntryDraft,
  type EntryKind,
  type LedgerEntry,
} from '../domain/ledger-entry.js';
import { type Db, holdsConnection, runStatement } from './database.js';
import { precompiled } from './precompiled.js';
import { applyEntry } from './projections/index.js';
import type { LedgerTable } from './schema.js';
import type { WriteLock } from './write-lock.js';
import { WriteTx } from './write-tx.js';

export type WriteUnit<T> = (tx: WriteTx) => Promise<T>;

interface Queued {
  unit: WriteUnit<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

type Outcome = { ok: true; value: unknown; tx: WriteTx } | { ok: false; error: unknown };

export interface CommitInfo {
  entries: LedgerEntry[];
  units: number;
}

const insertEntry = precompiled<Insertable<LedgerTable>>(['seq', 'at', 'kind', 'stream', 'actor', 'body', 'prev_hash', 'hash'], (db, v) =>
  db.insertInto('ledger').values(v),
);
const selectHead = precompiled<Record<string, never>>([], (db) => db.selectFrom('ledger').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1));
const BEGIN = CompiledQuery.raw('BEGIN IMMEDIATE');
const COMMIT = CompiledQuery.raw('COMMIT');
const ROLLBACK = CompiledQuery.raw('ROLLBACK');
const SAVEPOINT = CompiledQuery.raw('SAVEPOINT unit');
const RELEASE = CompiledQuery.raw('RELEASE unit');
const ROLLBACK_TO = CompiledQuery.raw('ROLLBACK TO unit');

/** Runs a statement of the writer's own (a rejection, never a throw, when it fails). */
const exec = async (conn: Db, query: CompiledQuery) => runStatement(conn, query);

const UNKNOWN_HEAD = -2;

/** Units per transaction; the rest wait for the next one, so one commit stays short. */
const MAX_UNITS_PER_COMMIT = 2000;

export interface LedgerWriterOptions {
  clock: () => Date;
  onCommit?: (info: CommitInfo) => void;
  /** Called when another process appended since this process's last commit (caches must be dropped). */
  onForeignWrite?: () => void;
  /** Called inside the transaction for each entry appended (to invalidate caches at once). */
  onAppend?: (entry: LedgerEntry) => void;
  /** Shared with the other writer of this process, if there is one; taken around every transaction. */
  lock?: WriteLock;
  /** Take the lock blocking the thread (a writer thread has nothing else to do while it waits). */
  blockingLock?: boolean;
  /**
   * Every unit may run a second time (a function of its plain-data arguments and the transaction, with
   * no other effects), so units need no savepoint each: when one fails after writing (or with anything
   * but a HeraldError), the batch is rolled back and run again with savepoints. Saves two statements
   * per unit on the hot path.
   */
  rerunnableUnits?: boolean;
}

export class LedgerWriter {
  private queue: Queued[] = [];
  private flushing = false;
  private scheduled = false;
  private idle: Array<() => void> = [];
  /** -1: nothing committed yet; UNKNOWN_HEAD: a commit failed, so the head may be anything. */
  private knownHeadSeq = -1;
  private foreignSeen = 0;
  private readonly clock: () => Date;
  private readonly onCommit: (info: CommitInfo) => void;
  private readonly onForeignWrite: () => void;
  private readonly onAppend: (entry: LedgerEntry) => void;

  constructor(
    private readonly db: Db,
    private readonly opts: LedgerWriterOptions,
  ) {
    this.clock = opts.clock;
    this.onCommit = opts.onCommit ?? (() => {});
    this.onForeignWrite = opts.onForeignWrite ?? (() => {});
    this.onAppend = opts.onAppend ?? (() => {});
    this.foreignSeen = opts.lock?.foreignWrites ?? 0;
  }

  write<T>(unit: WriteUnit<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ unit, resolve: resolve as (v: unknown) => void, reject });
      this.schedule();
    });
  }

  /** Resolves when everything queued so far is committed. */
  drain(): Promise<void> {
    if (!this.flushing && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private schedule(): void {
    if (this.scheduled || this.flushing) return;
    this.scheduled = true;
    // setImmediate lets every request that arrived in this turn of the event loop join the batch.
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, MAX_UNITS_PER_COMMIT);
        await this.commitBatch(batch);
      }
    } finally {
      this.flushing = false;
      const waiters = this.idle.splice(0);
      for (const w of waiters) w();
    }
  }

  /** What was cached from a transaction that rolled back may be wrong: drop it, in both threads. */
  private dropCaches(): void {
    this.opts.lock?.bumpEndpointsGeneration();
    this.onForeignWrite();
  }

  /**
   * Inside the transaction, with the ledger head just read: was anything appended since this
   * process's last commit (its own or, with a lock, its sibling writer's), or did the sibling see that?
   */
  private noticeForeignWrites(headSeq: number): void {
    const lock = this.opts.lock;
    const last = lock ? lock.lastHead : this.knownHeadSeq;
    let foreign = last !== -1 && headSeq !== last;
    if (lock) {
      if (foreign) lock.noteForeignWrite();
      if (lock.foreignWrites !== this.foreignSeen) foreign = true;
      this.foreignSeen = lock.foreignWrites;
    }
    if (foreign) this.onForeignWrite();
  }

  private async commitBatch(batch: Queued[]): Promise<void> {
    let outcomes: Outcome[] | null = null;
    const lock = this.opts.lock;
    if (lock) {
      if (this.opts.blockingLock) lock.acquireSync();
      else await lock.acquire();
    }
    try {
      await this.db.connection().execute(async (conn) => {
        holdsConnection(conn, this.db);
        outcomes = await this.runBatch(conn, batch, !this.opts.rerunnableUnits);
        if (outcomes === null) {
          // A unit failed after it had written: the whole batch was rolled back. Again, each unit in a
          // savepoint of its own, so the failing one rolls back alone.
          this.dropCaches();
          outcomes = await this.runBatch(conn, batch, true);
        }
      });
    } catch (err) {
      // Unknown now: the next commit treats the head it finds as another process's write.
      this.knownHeadSeq = UNKNOWN_HEAD;
      if (lock) lock.lastHead = UNKNOWN_HEAD;
      this.dropCaches();
      for (const q of batch) q.reject(err);
      return;
    } finally {
      lock?.release();
    }
    this.settle(batch, outcomes!);
  }

  /**
   * One transaction over the batch. `guarded`: each unit runs in a savepoint. Unguarded (units that can
   * run again, see `rerunnableUnits`), a unit that refuses (HeraldError) before writing anything needs
   * no savepoint; any other failure rolls back the whole transaction and this returns null.
   */
  private async runBatch(conn: Db, batch: Queued[], guarded: boolean): Promise<Outcome[] | null> {
    const outcomes: Outcome[] = [];
    await exec(conn, BEGIN);
    try {
      const [head] = (await selectHead<Pick<LedgerTable, 'seq' | 'hash'>>(conn, {})).rows;
      let seq = head?.seq ?? 0;
      let hash = head?.hash ?? GENESIS_HASH;
      this.noticeForeignWrites(seq);
      let wrote = false;

      const append = async <K extends EntryKind>(draft: EntryDraft<K>): Promise<LedgerEntry<K>> => {
        const at = this.clock().toISOString();
        const body = canonicalJson(draft.body);
        const next = seq + 1;
        const entryHash = entryHashFromCanonicalBody(hash, { seq: next, at, kind: draft.kind, stream: draft.stream, actor: draft.actor }, body);
        const entry = { ...draft, seq: next, at, prev_hash: hash, hash: entryHash } as LedgerEntry<K>;
        wrote = true;
        await insertEntry(conn, { seq: next, at, kind: draft.kind, stream: draft.stream, actor: draft.actor, body, prev_hash: hash, hash: entryHash });
        await applyEntry(conn, entry as LedgerEntry);
        this.onAppend(entry as LedgerEntry);
        seq = next;
        hash = entryHash;
        return entry;
      };

      for (const q of batch) {
        const tx = new WriteTx(conn, this.clock, append);
        const before = { seq, hash };
        wrote = false;
        if (guarded) await exec(conn, SAVEPOINT);
        try {
          const value = await q.unit(tx);
          if (guarded) await exec(conn, RELEASE);
          outcomes.push({ ok: true, value, tx });
        } catch (error) {
          if (!guarded) {
            // Only a unit's own refusal before it wrote is safe to pass over without a savepoint; any
            // other error (SQLite may have ended the transaction itself) reruns the batch guarded.
            if (wrote || !(error instanceof HeraldError)) {
              await exec(conn, ROLLBACK).catch(() => {});
              return null;
            }
          } else {
            await exec(conn, ROLLBACK_TO);
            await exec(conn, RELEASE);
            seq = before.seq;
            hash = before.hash;
            // Caches may hold what the unit wrote before it failed (an endpoint list read after its change).
            if (tx.appended.length > 0) this.dropCaches();
          }
          outcomes.push({ ok: false, error });
        }
      }
      await exec(conn, COMMIT);
      this.knownHeadSeq = seq;
      if (this.opts.lock) this.opts.lock.lastHead = seq;
      return outcomes;
    } catch (err) {
      await exec(conn, ROLLBACK).catch(() => {});
      throw err;
    }
  }

  private settle(batch: Queued[], outcomes: Outcome[]): void {
    const committed = outcomes.flatMap((o) => (o.ok ? o.tx.appended : []));
    if (committed.length > 0) this.onCommit({ entries: committed, units: batch.length });
    batch.forEach((q, i) => {
      const o = outcomes[i]!;
      if (o.ok) {
        o.tx.runAfterCommit();
        q.resolve(o.value);
      } else {
        q.reject(o.error);
      }
    });
  }
}
