// Group commit, herald's one writer: every unit of work waits in a queue, and the units waiting when
// the writer comes round run in one BEGIN IMMEDIATE … COMMIT, so many requests and attempts share
// one fsync. Each unit runs in a savepoint of its own, so a failing unit rolls back alone.
import { sql } from 'kysely';
import { HeraldError } from '../../domain/errors.js';
import { canonicalJson } from '../../domain/canonical-json.js';
import { GENESIS_HASH, entryHashFromCanonicalBody, type EntryDraft, type EntryKind, type LedgerEntry } from '../../domain/ledger-entry.js';
import type { StoreHooks, Unit } from '../store.js';
import type { Db } from './connection.js';
import { Tally, applyEntry } from './projections/index.js';
import { SqliteTx } from './sqlite-tx.js';

interface Queued {
  unit: Unit<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

type Settled = { ok: true; value: unknown; tx: SqliteTx } | { ok: false; error: unknown };

/** BEGIN IMMEDIATE found the database locked by another connection (nothing ran). */
class LockedError extends Error {
  constructor(readonly sqliteError: unknown) {
    super('the database is locked');
  }
}

const sqliteCode = (err: unknown): string => String((err as { code?: unknown } | null)?.code ?? '');
const isLocked = (err: unknown) => /^SQLITE_(BUSY|LOCKED)/.test(sqliteCode(err));

/** A known storage condition as the problem a client sees; anything else unchanged. */
function storageProblem(err: unknown): unknown {
  const code = sqliteCode(err);
  if (isLocked(err)) return new HeraldError('unavailable', 'the database is locked by another process; retry shortly');
  if (code.startsWith('SQLITE_FULL')) return new HeraldError('storage_full', 'the disk holding the database is full; nothing was recorded; retry once there is space');
  if (code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_CANTOPEN')) {
    return new HeraldError('unavailable', 'the database cannot be written right now; nothing was recorded; retry shortly');
  }
  return err;
}

/** Units per transaction; the rest wait for the next one, so one commit stays short. */
const MAX_UNITS_PER_COMMIT = 1000;

/**
 * The shortest time from one commit to the next. A commit costs the same for one unit as for many
 * (its pages, its fsync), and at a few hundred units a second each would otherwise commit alone.
 */
const MIN_COMMIT_INTERVAL_MS = 4;

export class GroupCommit {
  private queue: Queued[] = [];
  private flushing = false;
  private scheduled = false;
  private idle: Array<() => void> = [];
  /** When the last transaction ended (performance.now()). */
  private lastCommitAt = -Infinity;
  private readonly clock: () => Date;

  constructor(
    private readonly db: Db,
    private readonly hooks: StoreHooks,
    /** How long a transaction waits for another process's write lock before its units fail (503). */
    private readonly lockWaitMs = 5000,
  ) {
    this.clock = hooks.clock ?? (() => new Date());
  }

  write<T>(unit: Unit<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ unit: unit as Unit<unknown>, resolve: resolve as (v: unknown) => void, reject });
      if (!this.scheduled && !this.flushing) {
        this.scheduled = true;
        const run = () => {
          this.scheduled = false;
          void this.flush();
        };
        // setImmediate lets every unit queued in this turn of the event loop join the transaction. Right
        // after a commit, the next waits out the rest of MIN_COMMIT_INTERVAL_MS: under a steady trickle
        // of requests and attempts, units then share commits instead of paying one each.
        const wait = this.lastCommitAt + MIN_COMMIT_INTERVAL_MS - performance.now();
        if (wait > 0) setTimeout(run, wait);
        else setImmediate(run);
      }
    });
  }

  /** Resolves when everything queued so far is committed (or failed). */
  drain(): Promise<void> {
    if (!this.flushing && !this.scheduled && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, MAX_UNITS_PER_COMMIT);
        const ran = await this.commit(batch);
        this.lastCommitAt = performance.now();
        // Units after one that ends the transaction wait for the next one.
        if (ran < batch.length) this.queue.unshift(...batch.slice(ran));
      }
    } finally {
      this.flushing = false;
      for (const w of this.idle.splice(0)) w();
    }
  }

  /**
   * Runs the batch (or its head, up to a unit that ends the transaction) in one transaction; returns how
   * many units ran. While another process holds the write lock, it tries again every few milliseconds
   * (the event loop and readers go on meanwhile), up to the lock wait.
   */
  private async commit(batch: Queued[]): Promise<number> {
    const deadline = performance.now() + this.lockWaitMs;
    for (let pause = 2; ; pause = Math.min(pause * 2, 100)) {
      try {
        return await this.commitOnce(batch);
      } catch (err) {
        if (!(err instanceof LockedError) || performance.now() >= deadline) {
          const failure = storageProblem(err instanceof LockedError ? err.sqliteError : err);
          this.hooks.onRollback?.();
          for (const q of batch) q.reject(failure);
          return batch.length;
        }
        await new Promise((r) => setTimeout(r, pause));
      }
    }
  }

  private async commitOnce(batch: Queued[]): Promise<number> {
    const settled: Settled[] = [];
    await this.db.connection().execute(async (conn) => {
      try {
        await sql`BEGIN IMMEDIATE`.execute(conn);
      } catch (err) {
        throw isLocked(err) ? new LockedError(err) : err;
      }
      try {
        const tally = await this.runUnits(conn, batch, settled);
        await tally.flush(conn);
        await sql`COMMIT`.execute(conn);
      } catch (err) {
        await sql`ROLLBACK`.execute(conn).catch(() => {});
        throw err;
      }
    });
    const committed = settled.flatMap((s) => (s.ok ? s.tx.appended : []));
    // What runs after the commit must not keep any unit from hearing that it is durable.
    const safely = (fn: () => void) => {
      try {
        fn();
      } catch {
        // a listener's own failure; the commit stands
      }
    };
    if (committed.length > 0) safely(() => this.hooks.onCommit?.(committed, settled.length));
    settled.forEach((s, i) => {
      if (s.ok) {
        safely(() => s.tx.runAfterCommit());
        batch[i]!.resolve(s.value);
      } else {
        batch[i]!.reject(s.error);
      }
    });
    return settled.length;
  }

  /** Runs the units, each in a savepoint; returns what the kept ones gathered for the end of the transaction. */
  private async runUnits(conn: Db, batch: Queued[], settled: Settled[]): Promise<Tally> {
    const kept = new Tally();
    let unitTally = new Tally();
    const head = await conn.selectFrom('ledger').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
    let seq = head?.seq ?? 0;
    let hash = head?.hash ?? GENESIS_HASH;
    let endsHere = false;

    const append = async <K extends EntryKind>(draft: EntryDraft<K>): Promise<LedgerEntry<K>> => {
      const at = this.clock().toISOString();
      const body = canonicalJson(draft.body);
      const next = seq + 1;
      const entryHash = entryHashFromCanonicalBody(hash, { seq: next, at, kind: draft.kind, stream: draft.stream, actor: draft.actor }, body);
      const entry = { ...draft, seq: next, at, prev_hash: hash, hash: entryHash } as LedgerEntry<K>;
      await sql`INSERT INTO ledger (seq, at, kind, stream, actor, body, prev_hash, hash)
                VALUES (${next}, ${at}, ${draft.kind}, ${draft.stream}, ${draft.actor}, ${body}, ${hash}, ${entryHash})`.execute(conn);
      await applyEntry(conn, entry as LedgerEntry, unitTally);
      seq = next;
      hash = entryHash;
      if (this.hooks.endsTransaction?.(entry as LedgerEntry)) endsHere = true;
      return entry;
    };

    for (const q of batch) {
      unitTally = new Tally();
      const tx = new SqliteTx(conn, this.clock, append);
      const before = { seq, hash };
      await sql`SAVEPOINT unit`.execute(conn);
      try {
        const value = await q.unit(tx);
        await sql`RELEASE unit`.execute(conn);
        kept.add(unitTally);
        settled.push({ ok: true, value, tx });
      } catch (error) {
        await sql`ROLLBACK TO unit`.execute(conn);
        await sql`RELEASE unit`.execute(conn);
        seq = before.seq;
        hash = before.hash;
        // What the unit read after its own appends (an endpoint list, say) may have been cached.
        if (tx.appended.length > 0) this.hooks.onRollback?.();
        endsHere = false;
        settled.push({ ok: false, error: storageProblem(error) });
      }
      if (endsHere) return kept;
    }
    return kept;
  }
}
