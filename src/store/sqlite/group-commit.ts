// Group commit, herald's one writer: every unit of work waits in a queue, and the units waiting when
// the writer comes round run in one BEGIN IMMEDIATE … COMMIT, so many requests and attempts share
// one fsync. Each unit runs in a savepoint of its own, so a failing unit rolls back alone.
import { sql } from 'kysely';
import { canonicalJson } from '../../domain/canonical-json.js';
import { GENESIS_HASH, entryHashFromCanonicalBody, type EntryDraft, type EntryKind, type LedgerEntry } from '../../domain/ledger-entry.js';
import type { StoreHooks, Unit } from '../store.js';
import type { Db } from './connection.js';
import { applyEntry } from './projections/index.js';
import { SqliteTx } from './sqlite-tx.js';

interface Queued {
  unit: Unit<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

type Settled = { ok: true; value: unknown; tx: SqliteTx } | { ok: false; error: unknown };

/** Units per transaction; the rest wait for the next one, so one commit stays short. */
const MAX_UNITS_PER_COMMIT = 1000;

export class GroupCommit {
  private queue: Queued[] = [];
  private flushing = false;
  private scheduled = false;
  private idle: Array<() => void> = [];
  private readonly clock: () => Date;

  constructor(
    private readonly db: Db,
    private readonly hooks: StoreHooks,
  ) {
    this.clock = hooks.clock ?? (() => new Date());
  }

  write<T>(unit: Unit<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ unit: unit as Unit<unknown>, resolve: resolve as (v: unknown) => void, reject });
      if (!this.scheduled && !this.flushing) {
        this.scheduled = true;
        // setImmediate lets every unit queued in this turn of the event loop join the transaction.
        setImmediate(() => {
          this.scheduled = false;
          void this.flush();
        });
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
        // Units after one that ends the transaction wait for the next one.
        if (ran < batch.length) this.queue.unshift(...batch.slice(ran));
      }
    } finally {
      this.flushing = false;
      for (const w of this.idle.splice(0)) w();
    }
  }

  /** Runs the batch (or its head, up to a unit that ends the transaction) in one transaction; returns how many units ran. */
  private async commit(batch: Queued[]): Promise<number> {
    const settled: Settled[] = [];
    try {
      await this.db.connection().execute(async (conn) => {
        await sql`BEGIN IMMEDIATE`.execute(conn);
        try {
          await this.runUnits(conn, batch, settled);
          await sql`COMMIT`.execute(conn);
        } catch (err) {
          await sql`ROLLBACK`.execute(conn).catch(() => {});
          throw err;
        }
      });
    } catch (err) {
      this.hooks.onRollback?.();
      for (const q of batch) q.reject(err);
      return batch.length;
    }
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

  private async runUnits(conn: Db, batch: Queued[], settled: Settled[]): Promise<void> {
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
      await applyEntry(conn, entry as LedgerEntry);
      seq = next;
      hash = entryHash;
      if (this.hooks.endsTransaction?.(entry as LedgerEntry)) endsHere = true;
      return entry;
    };

    for (const q of batch) {
      const tx = new SqliteTx(conn, this.clock, append);
      const before = { seq, hash };
      await sql`SAVEPOINT unit`.execute(conn);
      try {
        const value = await q.unit(tx);
        await sql`RELEASE unit`.execute(conn);
        settled.push({ ok: true, value, tx });
      } catch (error) {
        await sql`ROLLBACK TO unit`.execute(conn);
        await sql`RELEASE unit`.execute(conn);
        seq = before.seq;
        hash = before.hash;
        // What the unit read after its own appends (an endpoint list, say) may have been cached.
        if (tx.appended.length > 0) this.hooks.onRollback?.();
        endsHere = false;
        settled.push({ ok: false, error });
      }
      if (endsHere) return;
    }
  }
}
