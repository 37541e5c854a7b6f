// /v1/ledger: the raw entries in order (JSON pages, or an NDJSON export stream) and chain verification.
import { z } from 'zod';
import type { HttpDeps } from '../deps.js';
import { streamNdjson } from '../ndjson.js';
import type { Api } from '../route.js';
import { ledgerEntrySchema, verifySchema } from '../schemas.js';

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
      if ((c.req.header('accept') ?? '').includes('application/x-ndjson')) return streamNdjson(c, deps.ledger.export(q.after));
      return c.json(await deps.ledger.page(q.after, q.limit), 200);
    },
  );

  api.route(
    {
      method: 'get', path: '/v1/ledger/verify', role: 'read', tag, summary: 'Recompute the hash chain',
      description: '{ ok: true, entries, head_hash } or { ok: false, first_broken_seq, reason }.',
      responses: { 200: { description: 'the verification', schema: verifySchema } },
    },
    async (c) => c.json(await deps.ledger.verify(), 200),
  );
}
