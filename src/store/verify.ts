// Recomputes the hash chain from the first entry and names the first entry that does not link. It
// reads the ledger a page at a time, so a ledger of any length is checked in bounded memory.
import { GENESIS_HASH, checkLink } from '../domain/ledger-entry.js';
import type { StoredEntry, VerifyResult } from './records.js';

const PAGE = 2000;

export async function verifyLedger(entriesAfter: (afterSeq: number, limit: number) => Promise<StoredEntry[]>): Promise<VerifyResult> {
  let prevSeq = 0;
  let prevHash = GENESIS_HASH;
  let checked = 0;
  for (;;) {
    const page = await entriesAfter(prevSeq, PAGE);
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
