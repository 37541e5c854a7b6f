// Reads of the ledger itself: entries in order (for the API, export, verify and rebuild) and the head.
import type { StoredEntry } from '../../records.js';
import type { Db } from '../connection.js';

export async function entriesAfter(db: Db, afterSeq: number, limit: number): Promise<StoredEntry[]> {
  return db.selectFrom('ledger').selectAll().where('seq', '>', afterSeq).orderBy('seq').limit(limit).execute();
}

export async function ledgerHead(db: Db): Promise<{ seq: number; hash: string } | undefined> {
  return db.selectFrom('ledger').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
}
