// /v1/events: idempotent ingest (single and batch), listing with filters, one event with its deliveries.
import { z } from 'zod';
import { batchRequestSchema, postedEventSchema } from '../../domain/event.js';
import type { HttpDeps } from '../deps.js';
import { type Api, listQuery, timeParam } from '../route.js';
import { batchAnswerSchema, eventSchema, eventWithDeliveriesSchema, ingestAnswerSchema, page } from '../schemas.js';

export function eventRoutes(api: Api, deps: HttpDeps): void {
  api.route(
    {
      method: 'post',
      path: '/v1/events',
      role: 'ingest',
      tag: 'events',
      summary: 'Ingest one event',
      description:
        'Requires an Idempotency-Key (bare or a quoted Structured-Field string, at most 255 characters). ' +
        'A repeat with the same key and body answers the original result with Idempotent-Replayed: true; ' +
        'the same key with another body is a 422; while the first request is in flight, 409. ' +
        'Answered only once the event and its deliveries are on disk.',
      headers: z.object({ 'idempotency-key': z.string().max(257) }),
      body: postedEventSchema,
      invalidBody: 'the event is not valid',
      checksJsonValues: true, // the event schema checks them, naming the field
      responses: {
        202: { description: 'recorded (or replayed)', schema: ingestAnswerSchema },
        400: { description: 'missing or invalid Idempotency-Key, malformed JSON' },
        409: { description: 'the same key is still in flight' },
        413: { description: 'body too large' },
        422: { description: 'invalid event, or key reused with another body' },
      },
    },
    async (c, _q, event, raw) => {
      const r = await deps.events.ingest(c.get('principal'), c.req.header('idempotency-key'), event, raw);
      return c.json(r.body as object, r.status as 202, r.replayed ? { 'idempotent-replayed': 'true' } : {});
    },
  );

  api.route(
    {
      method: 'post',
      path: '/v1/events/batch',
      role: 'ingest',
      tag: 'events',
      summary: 'Ingest up to 1,000 events, each with its own idempotency_key',
      description: 'Each result carries the status a single POST /v1/events would have answered; one bad item does not reject the others.',
      body: batchRequestSchema,
      invalidBody: 'send { "events": [ ... ] } with 1 to 1,000 events',
      checksJsonValues: true, // each item is checked on its own, so a bad one fails alone
      responses: { 200: { description: 'one result per item, in order', schema: batchAnswerSchema } },
    },
    // The items as JSON.parse made them: zod's copy of a record assigns keys, and an own "__proto__"
    // key would become the copy's prototype instead of the unknown field it is.
    async (c, _q, _body, raw) => c.json(await deps.events.ingestBatch(c.get('principal'), (raw as { events: unknown[] }).events), 200),
  );

  api.route(
    {
      method: 'get',
      path: '/v1/events',
      role: 'read',
      tag: 'events',
      summary: 'List events, newest first',
      query: z.object({
        type: z.string().max(128).optional(),
        subject: z.string().max(256).optional(),
        user: z.string().max(256).optional(),
        since: timeParam.describe('received at or after'),
        until: timeParam.describe('received before'),
        ...listQuery,
      }),
      responses: { 200: { description: 'a page of events', schema: page(eventSchema, 'EventPage') } },
    },
    async (c, q) => c.json(await deps.events.list(q), 200),
  );

  api.route(
    {
      method: 'get',
      path: '/v1/events/:id',
      role: 'read',
      tag: 'events',
      summary: 'One event with its deliveries',
      responses: { 200: { description: 'the event', schema: eventWithDeliveriesSchema }, 404: { description: 'no such event' } },
    },
    async (c) => {
      return c.json(await deps.events.get(c.req.param('id')!), 200);
    },
  );
}
