// Opens a SQLite database: better-sqlite3 behind kysely's SQLite dialect, WAL, synchronous=FULL by
// default, a prepared-statement cache inside the driver adapter, and migrations run by kysely's Migrator.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, type SqliteDatabase, type SqliteStatement } from 'kysely';
import { migrations } from '../../../migrations/index.js';
import type { Database } from './schema.js';

export type Db = Kysely<Database>;

export interface OpenOptions {
  path: string;
  /** OFF only for scratch databases (rebuild --check). */
  synchronous?: 'FULL' | 'NORMAL' | 'EXTRA' | 'OFF';
  readonly?: boolean;
}

export interface OpenedDatabase {
  db: Db;
  /** The raw connection, for pragmas and checkpoints only; queries go through kysely. */
  raw: BetterSqlite3.Database;
}

const STATEMENT_CACHE_LIMIT = 1000;

/**
 * kysely prepares every query afresh; on the hot path that costs more than running it. This keeps
 * prepared statements by SQL text (bounded), which is safe because better-sqlite3 runs them synchronously.
 */
function withStatementCache(raw: BetterSqlite3.Database): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  return {
    close: () => raw.close(),
    prepare: (sql: string) => {
      let stmt = cache.get(sql);
      if (!stmt) {
        if (cache.size >= STATEMENT_CACHE_LIMIT) cache.clear();
        stmt = raw.prepare(sql) as unknown as SqliteStatement;
        cache.set(sql, stmt);
      }
      return stmt;
    },
  };
}

export function openDatabase(opts: OpenOptions): OpenedDatabase {
  const memory = opts.path === ':memory:';
  if (!memory) mkdirSync(dirname(opts.path), { recursive: true });
  const raw = new BetterSqlite3(opts.path, { readonly: opts.readonly ?? false });
  // Never wait for a lock inside SQLite: that would block the event loop. The writer waits between
  // attempts instead (group-commit.ts); WAL readers do not wait for writers.
  raw.pragma('busy_timeout = 0');
  if (!memory && !opts.readonly) raw.pragma('journal_mode = WAL');
  raw.pragma(`synchronous = ${opts.synchronous ?? 'FULL'}`);
  raw.pragma('foreign_keys = OFF');
  raw.pragma('temp_store = MEMORY');
  raw.pragma('cache_size = -65536');
  const statements = withStatementCache(raw);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: statements }) });
  return { db, raw };
}

export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
