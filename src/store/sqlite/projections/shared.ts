// What every projection file shares: the shape of one projection, the JSON column helper, and the
// per-minute activity counts.
import { sql } from 'kysely';
import type { EntryKind, LedgerEntry } from '../../../domain/ledger-entry.js';
import type { Db } from '../connection.js';

export type Apply<K extends EntryKind> = (db: Db, e: LedgerEntry<K>) => Promise<void>;

/** The projections for a group of entry kinds: one function per kind. */
export type Projections<K extends EntryKind> = { [P in K]: Apply<P> };

export const json = (v: unknown) => (v == null ? null : JSON.stringify(v));

/** Counts one thing that happened in the minute of `at` (events received; attempts by their result, per endpoint). */
export async function countActivity(db: Db, at: string, endpointId: string | null, what: string): Promise<void> {
  await sql`INSERT INTO activity (minute, endpoint_id, what, n) VALUES (${at.slice(0, 16)}, ${endpointId ?? ''}, ${what}, 1)
            ON CONFLICT (minute, endpoint_id, what) DO UPDATE SET n = n + 1`.execute(db);
}

/** An entry that made deliveries: its minute's range of ledger positions takes it in (time filters use it). */
export async function notePosition(db: Db, seq: number, at: string): Promise<void> {
  await sql`INSERT INTO minute_positions (minute, first_seq, last_seq) VALUES (${at.slice(0, 16)}, ${seq}, ${seq})
            ON CONFLICT (minute) DO UPDATE SET first_seq = min(first_seq, excluded.first_seq), last_seq = max(last_seq, excluded.last_seq)`.execute(db);
}
