// `ledger rebuild --check`: replays the whole ledger into fresh projections (a scratch in-memory
// database) and compares them, table by table and row by row, with the live ones.
import { canonicalJson } from '../domain/canonical-json.js';
import type { LedgerEntry } from '../domain/ledger-entry.js';
import { type Db, migrateToLatest, openDatabase } from './database.js';
import { applyEntry } from './projections/index.js';
import { entriesAfter } from './queries/ledger.js';
import { PROJECTIONS } from './schema.js';

export interface ProjectionDifference {
  table: string;
  key: string;
  live: Record<string, unknown> | null;
  rebuilt: Record<string, unknown> | null;
}

export interface RebuildReport {
  entries: number;
  tables: Record<string, number>;
  differences: ProjectionDifference[];
}

const PAGE = 2000;
const MAX_REPORTED = 50;

/**
 * A row in comparable form: JSON text columns (`*_json`) in canonical form. Live, projections
 * serialise values in the order the writer built them; replayed, from the ledger's canonical (sorted)
 * JSON. Key order carries no meaning, so it must not count as a difference; any change of value does.
 */
function comparable(row: Record<string, unknown> | null): string {
  if (!row) return 'null';
  const out: Record<string, unknown> = {};
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

export async function rebuildCheck(live: Db): Promise<RebuildReport> {
  const scratch = openDatabase({ path: ':memory:' });
  try {
    await migrateToLatest(scratch.db);
    let after = 0;
    let entries = 0;
    for (;;) {
      const page = await entriesAfter(live, after, PAGE);
      if (page.length === 0) break;
      await scratch.db.transaction().execute(async (trx) => {
        for (const row of page) {
          await applyEntry(trx, { ...row, body: JSON.parse(row.body) } as LedgerEntry);
        }
      });
      entries += page.length;
      after = page[page.length - 1]!.seq;
    }
    const differences: ProjectionDifference[] = [];
    const tables: Record<string, number> = {};
    for (const [table, keys] of Object.entries(PROJECTIONS)) {
      const load = async (db: Db) => {
        let q = db.selectFrom(table as keyof typeof PROJECTIONS).selectAll();
        for (const k of keys) q = q.orderBy(k as never);
        return (await q.execute()) as Array<Record<string, unknown>>;
      };
      const [a, b] = [await load(live), await load(scratch.db)];
      tables[table] = a.length;
      const keyOf = (r: Record<string, unknown>) => keys.map((k) => String(r[k])).join('/');
      const rebuilt = new Map(b.map((r) => [keyOf(r), r]));
      for (const row of a) {
        const k = keyOf(row);
        const other = rebuilt.get(k) ?? null;
        rebuilt.delete(k);
        if (comparable(row) !== comparable(other)) differences.push({ table, key: k, live: row, rebuilt: other });
      }
      for (const [k, row] of rebuilt) differences.push({ table, key: k, live: null, rebuilt: row });
    }
    return { entries, tables, differences: differences.slice(0, MAX_REPORTED) };
  } finally {
    await scratch.db.destroy();
  }
}
