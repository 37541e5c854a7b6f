// Group commit on a real SQLite file: units in one transaction, and a unit that fails rolls back alone,
// with a savepoint per unit or, for units that may run again, by running the batch again.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HeraldError } from '../../src/domain/errors.js';
import { migrateToLatest, openDatabase } from '../../src/store/database.js';
import { LedgerWriter } from '../../src/store/ledger-writer.js';
import { verifyLedger } from '../../src/store/verify.js';
import type { WriteTx } from '../../src/store/write-tx.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function open() {
  const dir = mkdtempSync(join(tmpdir(), 'herald-writer-'));
  dirs.push(dir);
  const { db } = openDatabase({ path: join(dir, 'herald.db') });
  await migrateToLatest(db);
  return db;
}

/** A writer and a first unit (revoking key_a) that counts its runs. */
async function withCountedFirstUnit(rerunnableUnits: boolean) {
  const db = await open();
  const writer = new LedgerWriter(db, { clock: () => new Date(), rerunnableUnits });
  let runs = 0;
  const first = (tx: WriteTx) => {
    runs++;
    return revoke('key_a')(tx);
  };
  return { db, writer, first, firstRuns: () => runs };
}

const revoke = (id: string) => (tx: WriteTx) => tx.append({ kind: 'api_key.revoked', stream: id, actor: 'test', body: { id } });

/** An event.received entry for event `id` (its projection inserts the events row: a second one is refused). */
const receive = (id: string) => (tx: WriteTx) =>
  tx.append({
    kind: 'event.received',
    stream: id,
    actor: 'test',
    body: {
      event: { id, type: 'job.done', source: null, subject: null, user: null, occurred_at: null, received_at: tx.now().toISOString(), data: {}, notify: null },
      api_key_id: null,
      idempotency: null,
      deliveries: [],
    },
  });

describe.each([
  ['a savepoint per unit', false],
  ['units run again after a failure', true],
])('LedgerWriter (%s)', (_label, rerunnableUnits) => {
  it('commits the units around one that fails after writing, and only those', async () => {
    const db = await open();
    const writer = new LedgerWriter(db, { clock: () => new Date(), rerunnableUnits });
    const runs = new Map<string, number>();
    const counted = (name: string, unit: (tx: WriteTx) => Promise<unknown>) => (tx: WriteTx) => {
      runs.set(name, (runs.get(name) ?? 0) + 1);
      return unit(tx);
    };
    const results = await Promise.allSettled([
      writer.write(counted('a', revoke('key_a'))),
      writer.write(
        counted('b', async (tx) => {
          await revoke('key_b')(tx);
          throw new Error('b fails after writing');
        }),
      ),
      writer.write(counted('c', () => Promise.reject(new Error('c fails before writing')))),
      writer.write(counted('d', revoke('key_d'))),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason.message).toBe('b fails after writing');
    expect((results[2] as PromiseRejectedResult).reason.message).toBe('c fails before writing');

    const entries = await db.selectFrom('ledger').select(['seq', 'stream']).orderBy('seq').execute();
    expect(entries.map((e) => e.stream)).toEqual(['key_a', 'key_d']);
    expect(entries.map((e) => e.seq)).toEqual([1, 2]);
    expect(await verifyLedger(db)).toMatchObject({ ok: true, entries: 2 });
    // Rerunnable units pay for the failure with a second run of the batch; savepoints never rerun.
    expect(runs.get('a')).toBe(rerunnableUnits ? 2 : 1);
    expect(runs.get('b')).toBe(rerunnableUnits ? 2 : 1);
    await db.destroy();
  });

  it('needs no second run when a unit refuses (HeraldError) before writing anything', async () => {
    const { db, writer, first, firstRuns } = await withCountedFirstUnit(rerunnableUnits);
    const results = await Promise.allSettled([
      writer.write(first),
      writer.write(() => Promise.reject(new HeraldError('validation', 'refused'))),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
    expect(firstRuns()).toBe(1);
    expect(await verifyLedger(db)).toMatchObject({ ok: true, entries: 1 });
    await db.destroy();
  });

  it('fails only the unit whose statement SQLite refuses (statements run straight on the held connection)', async () => {
    const db = await open();
    const writer = new LedgerWriter(db, { clock: () => new Date(), rerunnableUnits });
    const results = await Promise.allSettled([writer.write(receive('evt_1')), writer.write(receive('evt_1')), writer.write(receive('evt_2'))]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason.message).toMatch(/UNIQUE constraint failed: events\.id/);
    expect((await db.selectFrom('events').select('id').orderBy('seq').execute()).map((e) => e.id)).toEqual(['evt_1', 'evt_2']);
    expect(await verifyLedger(db)).toMatchObject({ ok: true, entries: 2 });
    // The writer goes on: a later batch commits on the same connection.
    await writer.write(receive('evt_3'));
    expect(await verifyLedger(db)).toMatchObject({ ok: true, entries: 3 });
    await db.destroy();
  });

  it('treats any other error as one that may have ended the transaction (runs the batch again, guarded)', async () => {
    const { db, writer, first, firstRuns } = await withCountedFirstUnit(rerunnableUnits);
    const results = await Promise.allSettled([
      writer.write(first),
      writer.write(() => Promise.reject(new Error('disk I/O error'))),
      writer.write(revoke('key_c')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(firstRuns()).toBe(rerunnableUnits ? 2 : 1);
    expect(await verifyLedger(db)).toMatchObject({ ok: true, entries: 2 });
    await db.destroy();
  });
});
