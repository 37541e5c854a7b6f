// `ledger rebuild --check`: replays the whole ledger into fresh projections (a scratch database in a
// temporary file) and compares them with the live ones, table by table and row by row. Both sides are
// read a page at a time in key order, so memory stays bounded whatever the ledger's length.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { canonicalJson } from '../../domain/canonical-json.js';
import type { LedgerEntry } from '../../domain/ledger-entry.js';
import type { ProjectionDifference, RebuildReport } from '../records.js';
import { type Db, migrateToLatest, openDatabase } from './connection.js';
import { Tally, applyEntry } from './projections/index.js';
import { entriesAfter } from './queries/ledger.js';
import { PROJECTIONS } from './schema.js';

const PAGE = 2000;
const MAX_REPORTED = 50;

type Row = Record<string, unknown>;

/**
 * A row in comparable form: JSON text columns (`*_json`) in canonical form. Live, projections
 * serialise values in the order the writer built them; replayed, from the ledger's canonical (sorted)
 * JSON. Key order carries no meaning, so it must not count as a difference; any change of value does.
 */
function comparable(row: Row | null): string {
  if (!row) return 'null';
  const out: Row = {};
  for (const [k, v] of Object.entries(row)) {
    if (k.endsWith('_json') && typeof v === 'string') {
      try {
        out[k] = canonicalJson(JSON.parse(v));
        continue;
      } catch {
        // not JSON: compare the text as it is
      }
    }
    out[k] = v;
  }
  return JSON.stringify(out);
}

async function replay(live: Db, scratch: Db): Promise<number> {
  let after = 0;
  let entries = 0;
  for (;;) {
    const page = await entriesAfter(live, after, PAGE);
    if (page.length === 0) return entries;
    await scratch.transaction().execute(async (trx) => {
      const tally = new Tally();
      for (const row of page) await applyEntry(trx, { ...row, body: JSON.parse(row.body) } as LedgerEntry, tally);
      await tally.flush(trx);
    });
    entries += page.length;
    after = page[page.length - 1]!.seq;
  }
}

/** Rows of `table` with keys after `after` (and up to `upTo`, inclusive), in key order. */
async function rowsBetween(db: Db, table: keyof typeof PROJECTIONS, keys: readonly string[], after: unknown[] | null, upTo: unknown[] | null, limit: number | null): Promise<Row[]> {
  const tuple = sql.join(keys.map((k) => sql.ref(k)));
  let q = db.selectFrom(table).selectAll();
  if (after) q = q.where(sql<boolean>`(${tuple}) > (${sql.join(after)})`);
  if (upTo) q = q.where(sql<boolean>`(${tuple}) <= (${sql.join(upTo)})`);
  for (const k of keys) q = q.orderBy(k as never);
  if (limit !== null) q = q.limit(limit);
  return (await q.execute()) as Row[];
}

async function compareTable(live: Db, rebuilt: Db, table: keyof typeof PROJECTIONS, differences: ProjectionDifference[]): Promise<number> {
  const keys = PROJECTIONS[table];
  const keyOf = (r: Row) => keys.map((k) => r[k]);
  const label = (r: Row) => keyOf(r).map(String).join('/');
  let after: unknown[] | null = null;
  let count = 0;
  for (;;) {
    const page = await rowsBetween(live, table, keys, after, null, PAGE);
    const last = page.length === PAGE ? keyOf(page[page.length - 1]!) : null;
    // The rebuilt rows in the same key range (to the end once the live side is exhausted).
    const other = new Map((await rowsBetween(rebuilt, table, keys, after, last, null)).map((r) => [label(r), r]));
    for (const row of page) {
      const k = label(row);
      const twin = other.get(k) ?? null;
      other.delete(k);
      if (comparable(row) !== comparable(twin)) differences.push({ table, key: k, live: row, rebuilt: twin });
    }
    for (const [k, row] of other) differences.push({ table, key: k, live: null, rebuilt: row });
    count += page.length;
    if (!last || differences.length >= MAX_REPORTED) return count;
    after = last;
  }
}

/** Replays and compares inside one read transaction of the live database: one consistent snapshot. */
export function rebuildCheck(live: Db): Promise<RebuildReport> {
  return live.transaction().execute((snapshot) => rebuildCheckOf(snapshot));
}

async function rebuildCheckOf(live: Db): Promise<RebuildReport> {
  const dir = mkdtempSync(join(tmpdir(), 'herald-rebuild-'));
  const scratch = openDatabase({ path: join(dir, 'rebuilt.db'), synchronous: 'OFF' });
  try {
    await migrateToLatest(scratch.db);
    const entries = await replay(live, scratch.db);
    const differences: ProjectionDifference[] = [];
    const tables: Record<string, number> = {};
    for (const table of Object.keys(PROJECTIONS) as Array<keyof typeof PROJECTIONS>) {
      tables[table] = await compareTable(live, scratch.db, table, differences);
    }
    return { entries, tables, differences: differences.slice(0, MAX_REPORTED) };
  } finally {
    await scratch.db.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}
