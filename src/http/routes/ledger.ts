// /v1/ledger: the raw entries in order (JSON pages, or an NDJSON export stream) and chain verification.
import { stream } from 'hono/streaming';
import { z } from 'zod';
import type { StoredEntry } from '../../store/records.js';
import type { HttpDeps } from '../deps.js';
import type { Api } from '../route.js';
import { ledgerEntrySchema, verifySchema } from '../schemas.js';

const EXPORT_PAGE = 1000;

export function entryView(e: StoredEntry) {
  return { seq: e.seq, at: e.at, kind: e.kind, stream: e.stream, actor: e.actor, body: JSON.parse(e.body) as unknown, prev_hash: e.prev_hash, hash: e.hash };
}

export function ledgerRoutes(api: Api, deps: HttpDeps): void {
  const tag = 'ledger';
  api.route(
    {
      method: 'get', path: '/v1/ledger', role: 'read', tag, summary: 'Ledger entries after a sequence number, in order',
      description: 'With Accept: application/x-ndjson, streams every entry after `after` as one JSON object per line (an export).',
      query: z.object({
        after: z.coerce.number().int().min(0).default(0).describe('return entries with seq > after'),
        limit: z.coerce.number().int().min(1).max(1000).default(100),
      }),
      responses: {
        200: {
          description: 'a page of entries; next_cursor is the `after` of the next page',
          schema: z.object({ data: z.array(ledgerEntrySchema), next_cursor: z.string().nullable() }).meta({ id: 'LedgerPage' }),
        },
      },
    },
    async (c, q) => {
      if ((c.req.header('accept') ?? '').includes('application/x-ndjson')) {
        c.header('content-type', 'application/x-ndjson');
        return stream(c, async (s) => {
          let after = q.after;
          for (;;) {
            const rows = await deps.store.read.ledger.entriesAfter(after, EXPORT_PAGE);
            if (rows.length === 0) break;
            await s.write(rows.map((r) => JSON.stringify(entryView(r))).join('\n') + '\n');
            after = rows[rows.length - 1]!.seq;
            if (rows.length < EXPORT_PAGE || s.aborted) break;
          }
        });
      }
      const rows = await deps.store.read.ledger.entriesAfter(q.after, q.limit + 1);
      const more = rows.length > q.limit;
      const data = (more ? rows.slice(0, q.limit) : rows).map(entryView);
      return c.json({ data, next_cursor: more ? String(data[data.length - 1]!.seq) : null }, 200);
    },
  );

  api.route(
    {
      method: 'get', path: '/v1/ledger/verify', role: 'read', tag, summary: 'Recompute the hash chain',
      description: '{ ok: true, entries, head_hash } or { ok: false, first_broken_seq, reason }.',
      responses: { 200: { description: 'the verification', schema: verifySchema } },
    },
    async (c) => c.json(await deps.store.verify(), 200),
  );
}
