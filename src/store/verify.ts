// Recomputes the hash chain from the first entry and names the first entry that does not link.
import { GENESIS_HASH, checkLink, type ChainBreak } from '../domain/ledger-entry.js';
import type { Db } from './database.js';
import { entriesAfter } from './queries/ledger.js';

export type VerifyResult =
  | { ok: true; entries: number; head_hash: string }
  | { ok: false; entries: number; first_broken_seq: number; reason: ChainBreak['reason'] };

const PAGE = 2000;

export async function verifyLedger(db: Db): Promise<VerifyResult> {
  let prevSeq = 0;
  let prevHash = GENESIS_HASH;
  let checked = 0;
  for (;;) {
    const page = await entriesAfter(db, prevSeq, PAGE);
    for (const row of page) {
      let body: unknown;
      try {
        body = JSON.parse(row.body);
      } catch {
        return { ok: false, entries: checked, first_broken_seq: row.seq, reason: 'unreadable' };
      }
      const broken = checkLink(prevSeq, prevHash, { ...row, body });
      if (broken) return { ok: false, entries: checked, first_broken_seq: broken.seq, reason: broken.reason };
      prevSeq = row.seq;
      prevHash = row.hash;
      checked++;
    }
    if (page.length < PAGE) break;
    await new Promise((r) => setImmediate(r)); // let the server breathe during a long verify
  }
  return { ok: true, entries: checked, head_hash: prevHash };
}
