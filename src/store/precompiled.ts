// Hot-path statements built and compiled by kysely once, then run with fresh values. On the path every
// ingested event takes, building and compiling a query cost more than SQLite took to run it. Inside a
// write transaction they run straight on the connection it holds (runStatement in database.ts).
import { type Compilable, CompiledQuery, type QueryResult } from 'kysely';
import { type Db, runStatement } from './database.js';

const SENTINEL = '\u0000precompiled:';

type Slot<V> = { name: keyof V } | { constant: unknown };

/**
 * `build` is called once with a placeholder for each value; every later call reuses the SQL text and
 * puts the values where the placeholders were. Values the query holds as constants stay constants.
 * Unlike kysely, which leaves out a column whose value is undefined, an undefined value is written NULL.
 */
export function precompiled<V extends Record<string, unknown>>(names: ReadonlyArray<keyof V & string>, build: (db: Db, v: V) => Compilable) {
  let shape: { sql: string; slots: Slot<V>[] } | undefined;
  return async <R = unknown>(db: Db, values: V): Promise<QueryResult<R>> => {
    if (!shape) {
      const probe = Object.fromEntries(names.map((n) => [n, `${SENTINEL}${n}`])) as unknown as V;
      const query = build(db, probe).compile();
      const slots = query.parameters.map((p): Slot<V> => (typeof p === 'string' && p.startsWith(SENTINEL) ? { name: p.slice(SENTINEL.length) as keyof V } : { constant: p }));
      // Every name must reach the SQL as a parameter of its own: a value `build` reads without listing
      // it would be dropped (kysely omits undefined columns), one it transforms would be frozen.
      const used = new Set(slots.flatMap((s) => ('name' in s ? [s.name] : [])));
      const lost = names.filter((n) => !used.has(n));
      if (lost.length > 0 || slots.some((s) => 'constant' in s && typeof s.constant === 'string' && s.constant.includes(SENTINEL))) {
        throw new Error(`precompiled query does not take ${lost.join(', ') || 'its values'} as plain parameters: ${query.sql}`);
      }
      shape = { sql: query.sql, slots };
    }
    const parameters = shape.slots.map((s) => ('name' in s ? (values[s.name] ?? null) : s.constant));
    return runStatement<R>(db, CompiledQuery.raw(shape.sql, parameters));
  };
}
