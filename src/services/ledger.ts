// The ledger as auditors read it: entries in order (pages, or an export a page at a time) and the
// verification of its hash chain.
import type { StoredEntry, VerifyResult } from '../store/records.js';
import type { ServiceContext } from './context.js';
import { yieldToOthers } from './turns.js';

export function entryView(e: StoredEntry) {
  return { seq: e.seq, at: e.at, kind: e.kind, stream: e.stream, actor: e.actor, body: JSON.parse(e.body) as unknown, prev_hash: e.prev_hash, hash: e.hash };
}

export type EntryView = ReturnType<typeof entryView>;

export class LedgerService {
  /** The latest verification this process ran, for the console's overview. */
  lastVerified: { at: string; result: VerifyResult } | null = null;

  constructor(private readonly ctx: Pick<ServiceContext, 'store' | 'clock'>) {}

  /** The latest entries, newest first, ending at `before` (exclusive; the head when omitted). */
  async latest(limit: number, before?: number): Promise<{ data: EntryView[]; older: number | null }> {
    const head = (await this.ctx.store.read.ledger.ledgerHead())?.seq ?? 0;
    const end = Math.min(before ?? head + 1, head + 1);
    const from = Math.max(0, end - 1 - limit);
    const rows = await this.ctx.store.read.ledger.entriesAfter(from, end - 1 - from);
    return { data: rows.map(entryView).reverse(), older: from > 0 ? from + 1 : null };
  }

  /** Entries with seq > after, at most `limit`, and the `after` of the next page. */
  async page(after: number, limit: number): Promise<{ data: EntryView[]; next_cursor: string | null }> {
    const rows = await this.ctx.store.read.ledger.entriesAfter(after, limit + 1);
    const more = rows.length > limit;
    const data = (more ? rows.slice(0, limit) : rows).map(entryView);
    return { data, next_cursor: more ? String(data[data.length - 1]!.seq) : null };
  }

  /**
   * Every entry after `after` (up to `until`, inclusive, when given), a page at a time, with a turn of
   * the event loop before each page: reads resolve without one, and a client that reads as fast as
   * herald writes never makes the stream wait, so without it a long export would hold every other
   * request until its end.
   */
  async *export(after: number, until = Number.MAX_SAFE_INTEGER, pageSize = 500): AsyncGenerator<EntryView[]> {
    while (after < until) {
      await yieldToOthers();
      const rows = await this.ctx.store.read.ledger.entriesAfter(after, Math.min(pageSize, until - after));
      if (rows.length === 0) return;
      yield rows.map(entryView);
      after = rows[rows.length - 1]!.seq;
      if (rows.length < pageSize) return;
    }
  }

  async verify(): Promise<VerifyResult> {
    const result = await this.ctx.store.verify();
    this.lastVerified = { at: this.ctx.clock().toISOString(), result };
    return result;
  }
}
