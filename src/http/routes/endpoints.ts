// /v1/endpoints: manage destinations (admin), enable/disable (operate), read (read).
import { z } from 'zod';
import { CHANNELS, endpointInputSchema } from '../../domain/endpoint.js';
import { recoverSchema } from '../../services/deliveries.js';
import { endpointPatchSchema, reasonSchema, rotateSecretSchema } from '../../services/endpoints.js';
import type { HttpDeps } from '../deps.js';
import { type Api, listQuery } from '../route.js';
import { endpointSchema, ingestAnswerSchema, page } from '../schemas.js';

export function endpointRoutes(api: Api, deps: HttpDeps): void {
  const svc = deps.endpoints;
  const tag = 'endpoints';
  const one = { description: 'the endpoint', schema: endpointSchema };
  const notFound = { description: 'no such endpoint' };

  api.route(
    {
      method: 'post', path: '/v1/endpoints', role: 'admin', tag, summary: 'Create an endpoint',
      description: 'A webhook endpoint answers with its signing secret (whsec_…) once; GET /v1/endpoints/{id}/secret shows it later.',
      body: endpointInputSchema,
      responses: { 201: { description: 'created', schema: endpointSchema }, 422: { description: 'invalid configuration' } },
    },
    async (c, _q, body) => c.json(await svc.create(c.get('principal'), body), 201),
  );

  api.route(
    {
      method: 'get', path: '/v1/endpoints', role: 'read', tag, summary: 'List endpoints, newest first',
      query: z.object({
        channel: z.enum(CHANNELS).optional(),
        include_archived: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
        ...listQuery,
      }),
      responses: { 200: { description: 'a page of endpoints', schema: page(endpointSchema, 'EndpointPage') } },
    },
    async (c, q) => c.json(await svc.list(q), 200),
  );

  api.route(
    { method: 'get', path: '/v1/endpoints/:id', role: 'read', tag, summary: 'One endpoint', responses: { 200: one, 404: notFound } },
    async (c) => c.json(await svc.get(c.req.param('id')!), 200),
  );

  api.route(
    {
      method: 'patch', path: '/v1/endpoints/:id', role: 'admin', tag, summary: 'Change an endpoint',
      description: 'Any field of the endpoint\'s channel except channel and secret; null clears an optional field.',
      body: endpointPatchSchema,
      responses: { 200: one, 404: notFound, 409: { description: 'archived' }, 422: { description: 'invalid change' } },
    },
    async (c, _q, body) => c.json(await svc.patch(c.get('principal'), c.req.param('id')!, body), 200),
  );

  api.route(
    {
      method: 'delete', path: '/v1/endpoints/:id', role: 'admin', tag, summary: 'Archive an endpoint',
      description: 'Stops new deliveries and cancels waiting ones; its history stays.',
      responses: { 200: one, 404: notFound },
    },
    async (c) => c.json(await svc.archive(c.get('principal'), c.req.param('id')!), 200),
  );

  for (const action of ['enable', 'disable'] as const) {
    api.route(
      {
        method: 'post', path: `/v1/endpoints/:id/${action}`, role: 'operate', tag, summary: `${action[0]!.toUpperCase()}${action.slice(1)} an endpoint`,
        body: reasonSchema, responses: { 200: one, 404: notFound, 409: { description: 'archived' } },
      },
      async (c, _q, body) => c.json(await svc.setEnabled(c.get('principal'), c.req.param('id')!, action === 'enable', body), 200),
    );
  }

  api.route(
    {
      method: 'post', path: '/v1/endpoints/:id/rotate-secret', role: 'admin', tag, summary: 'Rotate the signing secret',
      description: 'The previous secret keeps signing (a second signature) for grace_s seconds, 24 hours by default.',
      body: rotateSecretSchema,
      responses: {
        200: { description: 'the new secret', schema: z.object({ id: z.string(), secret: z.string(), previous_secret_expires_at: z.string() }) },
        404: notFound,
      },
    },
    async (c, _q, body) => c.json(await svc.rotateSecret(c.get('principal'), c.req.param('id')!, body), 200),
  );

  api.route(
    {
      method: 'get', path: '/v1/endpoints/:id/secret', role: 'admin', tag, summary: 'The signing secret',
      responses: {
        200: {
          description: 'the current secret, and the previous one while it still signs',
          schema: z.object({ secret: z.string(), previous: z.array(z.object({ secret: z.string(), expires_at: z.string().nullable() })).optional() }),
        },
        404: notFound,
      },
    },
    async (c) => c.json(await svc.revealSecret(c.req.param('id')!), 200),
  );

  api.route(
    {
      method: 'post', path: '/v1/endpoints/:id/recover', role: 'operate', tag, summary: 'Re-queue every failed or dead delivery since T',
      description: 'Deliveries created in [since, until) (until defaults to now; at most 90 days). The first 500 are queued before the answer, the rest in the background; repeating the call queues nothing twice.',
      body: recoverSchema,
      responses: {
        202: {
          description: 'queued',
          schema: z.object({ endpoint_id: z.string(), since: z.string(), until: z.string(), requeued: z.number().int(), complete: z.boolean() }).meta({ id: 'Recovery' }),
        },
        404: notFound,
        409: { description: 'archived' },
        422: { description: 'invalid window' },
      },
    },
    async (c, _q, body) => c.json(await deps.deliveries.recover(c.get('principal'), c.req.param('id')!, body), 202),
  );

  api.route(
    {
      method: 'post', path: '/v1/endpoints/:id/test', role: 'operate', tag, summary: 'Send a herald.test event to this endpoint now',
      responses: { 202: { description: 'the test event and its delivery', schema: ingestAnswerSchema }, 404: notFound, 409: { description: 'archived or disabled' } },
    },
    async (c) => c.json(await deps.deliveries.test(c.get('principal'), c.req.param('id')!), 202),
  );
}
