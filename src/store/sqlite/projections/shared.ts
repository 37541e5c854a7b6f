// What every projection file shares: the shape of one projection and the JSON column helper.
import type { EntryKind, LedgerEntry } from '../../../domain/ledger-entry.js';
import type { Db } from '../connection.js';

export type Apply<K extends EntryKind> = (db: Db, e: LedgerEntry<K>) => Promise<void>;

/** The projections for a group of entry kinds: one function per kind. */
export type Projections<K extends EntryKind> = { [P in K]: Apply<P> };

export const json = (v: unknown) => (v == null ? null : JSON.stringify(v));
