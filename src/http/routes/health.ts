// Liveness, readiness, Prometheus metrics and the OpenAPI document: no key needed.
import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { HeraldError } from '../../domain/errors.js';
import type { HttpDeps } from '../deps.js';
import type { Api } from '../route.js';

/** Compares two secrets in constant time (of their hashes). */
function sameSecret(a: string, b: string): boolean {
  const h = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(h(a), h(b));
}

export function healthRoutes(api: Api, deps: HttpDeps): void {
  const tag = 'operations';
  api.route(
    { method: 'get', path: '/healthz', role: null, tag, summary: 'Liveness', responses: { 200: { description: 'alive', schema: z.object({ status: z.literal('ok') }) } } },
    (c) => c.json({ status: 'ok' as const }, 200),
  );
  api.route(
    {
      method: 'get', path: '/readyz', role: null, tag, summary: 'Readiness: the store is writable, its disk has room, and herald is taking work',
      responses: { 200: { description: 'ready', schema: z.object({ status: z.literal('ready') }) }, 503: { description: 'not ready' } },
    },
    async (c) => {
      if (!deps.isAccepting()) throw new HeraldError('unavailable', 'herald is shutting down');
      const why = await deps.notReady();
      if (why) throw new HeraldError('unavailable', why);
      return c.json({ status: 'ready' as const }, 200);
    },
  );
  api.route(
    {
      method: 'get', path: '/metrics', role: null, tag, summary: 'Prometheus metrics',
      description: 'With HERALD_METRICS_TOKEN set, only for Authorization: Bearer <that token>.',
      responses: { 200: { description: 'Prometheus text format' }, 401: { description: 'HERALD_METRICS_TOKEN is set and was not sent' } },
    },
    async (c) => {
      const token = deps.config.HERALD_METRICS_TOKEN;
      if (token && !sameSecret(c.req.header('authorization') ?? '', `Bearer ${token}`)) {
        throw new HeraldError('unauthorized', 'send Authorization: Bearer <HERALD_METRICS_TOKEN>');
      }
      return c.body(await deps.metrics.registry.metrics(), 200, { 'content-type': deps.metrics.registry.contentType });
    },
  );
  let doc: unknown;
  api.route(
    { method: 'get', path: '/openapi.json', role: null, tag, summary: 'This API as OpenAPI 3.1', responses: { 200: { description: 'the document' } } },
    (c) => c.json((doc ??= api.openApiDocument(deps.version)) as object, 200),
  );
}
