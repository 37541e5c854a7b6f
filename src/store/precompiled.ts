// Hot-path statements built and compiled by kysely once, then run with fresh values. On the path every
// ingested event takes, building and compiling a query cost more than SQLite took to run it.
import { type Compilable, CompiledQuery, type QueryResult } from 'kysely';
import type { Db } from './database.js';

const SENTINEL = '\u0000precompiled:';

type Slot<V> = { name: keyof V } | { constant: unknown };

/**
 * `build` is called once with a placeholder for each value; every later call reuses the SQL text and
 * puts the values where the placeholders were. Values the query holds as constants stay constants.
 */
export function precompiled<V extends Record<string, unknown>>(names: ReadonlyArray<keyof V & string>, build: (db: Db, v: V) => Compilable) {
  let shape: { sql: string; slots: Slot<V>[] } | undefined;
  return <R = unknown>(db: Db, values: V): Promise<QueryResult<R>> => {
    if (!shape) {
      const probe = Object.fromEntries(names.map((n) => [n, `${SENTINEL}${n}`])) as unknown as V;
      const query = build(db, probe).compile();
      const slots = query.parameters.map((p): Slot<V> => (typeof p === 'string' && p.startsWith(SENTINEL) ? { name: p.slice(SENTINEL.length) as keyof V } : { constant: p }));
      shape = { sql: query.sql, slots };
    }
    const parameters = shape.slots.map((s) => ('name' in s ? (values[s.name] ?? null) : s.constant));
    return db.executeQuery<R>(CompiledQuery.raw(shape.sql, parameters));
  };
}
