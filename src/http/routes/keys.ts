// /v1/keys: API keys (admin). The key itself is shown only in the answer to its creation.
import { createKeySchema } from '../../services/api-keys.js';
import type { HttpDeps } from '../deps.js';
import type { Api } from '../route.js';
import { apiKeySchema } from '../schemas.js';
import { z } from 'zod';

export function keyRoutes(api: Api, deps: HttpDeps): void {
  const tag = 'keys';
  api.route(
    {
      method: 'post', path: '/v1/keys', role: 'admin', tag, summary: 'Create an API key', body: createKeySchema,
      responses: { 201: { description: 'the key, shown once', schema: apiKeySchema }, 422: { description: 'invalid name or role' } },
    },
    async (c, _q, body) => c.json(await deps.apiKeys.create(c.get('principal'), body), 201),
  );
  api.route(
    { method: 'get', path: '/v1/keys', role: 'admin', tag, summary: 'List API keys', responses: { 200: { description: 'all keys', schema: z.object({ data: z.array(apiKeySchema) }) } } },
    async (c) => c.json({ data: await deps.apiKeys.list() }, 200),
  );
  api.route(
    { method: 'delete', path: '/v1/keys/:id', role: 'admin', tag, summary: 'Revoke an API key', responses: { 200: { description: 'the revoked key', schema: apiKeySchema }, 404: { description: 'no such key' } } },
    async (c) => c.json(await deps.apiKeys.revoke(c.get('principal'), c.req.param('id')!), 200),
  );
}
