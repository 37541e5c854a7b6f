// /v1/deliveries: the delivery history with its attempts.
import { z } from 'zod';
import { deliveryFilterShape, redeliverSchema } from '../../services/deliveries.js';
import type { HttpDeps } from '../deps.js';
import { type Api, listQuery } from '../route.js';
import { deliverySchema, deliveryWithAttemptsSchema, page } from '../schemas.js';

export function deliveryRoutes(api: Api, deps: HttpDeps): void {
  const tag = 'deliveries';
  api.route(
    {
      method: 'get', path: '/v1/deliveries', role: 'read', tag, summary: 'List deliveries, newest first',
      query: z.object({ ...deliveryFilterShape, ...listQuery }),
      responses: { 200: { description: 'a page of deliveries', schema: page(deliverySchema, 'DeliveryPage') } },
    },
    async (c, q) => c.json(await deps.deliveries.list(q), 200),
  );

  api.route(
    {
      method: 'get', path: '/v1/deliveries/:id', role: 'read', tag, summary: 'One delivery with all its attempts',
      responses: { 200: { description: 'the delivery', schema: deliveryWithAttemptsSchema }, 404: { description: 'no such delivery' } },
    },
    async (c) => c.json(await deps.deliveries.get(c.req.param('id')!), 200),
  );

  api.route(
    {
      method: 'post', path: '/v1/deliveries/:id/redeliver', role: 'operate', tag, summary: 'Redeliver now',
      description: 'A new attempt now, freshly signed (same webhook-id), with a fresh retry budget; the actor and reason are recorded. 409 while an attempt is in flight.',
      body: redeliverSchema,
      responses: {
        202: { description: 'queued', schema: deliveryWithAttemptsSchema },
        404: { description: 'no such delivery' },
        409: { description: 'in flight, cancelled, or its endpoint is disabled' },
      },
    },
    async (c, _q, body) => c.json(await deps.deliveries.redeliver(c.get('principal'), c.req.param('id')!, body), 202),
  );
}
