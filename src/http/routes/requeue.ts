// /v1/deliveries/count and /v1/deliveries/requeue: "retry all matching". How many deliveries a
// requeue with the list's filters would touch, and background jobs that requeue every one of them.
import { requeueFiltersSchema, requeueSchema } from '../../services/requeue-jobs.js';
import type { HttpDeps } from '../deps.js';
import { type Api, listQuery } from '../route.js';
import { countSchema, page, requeueJobSchema } from '../schemas.js';
import { z } from 'zod';

export function requeueRoutes(api: Api, deps: HttpDeps): void {
  const tag = 'deliveries';
  const touches = 'A requeue touches the deliveries matching every filter given that are succeeded, failed or dead (never pending, delivering or cancelled), are not held for a digest (the digest delivery carries them), and have no endpoint or a live one (enabled, not archived).';

  api.route(
    {
      method: 'get', path: '/v1/deliveries/count', role: 'read', tag, summary: 'How many deliveries a requeue with these filters would touch',
      description: `${touches} Unknown query parameters are refused (400), so a misspelt filter cannot widen the count.`,
      query: requeueFiltersSchema,
      responses: { 200: { description: 'the count, now', schema: countSchema } },
    },
    async (c, q) => c.json(await deps.requeue.count(q), 200),
  );

  api.route(
    {
      method: 'post', path: '/v1/deliveries/requeue', role: 'operate', tag, summary: 'Requeue every matching delivery, as a background job',
      description: `${touches} Deliveries created after the job starts are not swept in. The job runs a chunk at a time; its progress is GET /v1/deliveries/requeue/{id}; it resumes after a restart. The ledger records requeue.started, a deliveries.requeued per chunk and requeue.finished, with the API key's name as actor.`,
      body: requeueSchema,
      responses: { 202: { description: 'the job, started', schema: requeueJobSchema } },
    },
    async (c, _q, body) => c.json(await deps.requeue.start(c.get('principal'), body), 202),
  );

  api.route(
    {
      method: 'get', path: '/v1/deliveries/requeue', role: 'read', tag, summary: 'Requeue jobs, newest first',
      query: z.object(listQuery),
      responses: { 200: { description: 'a page of jobs', schema: page(requeueJobSchema, 'RequeueJobPage') } },
    },
    async (c, q) => c.json(await deps.requeue.list(q), 200),
  );

  api.route(
    {
      method: 'get', path: '/v1/deliveries/requeue/:id', role: 'read', tag, summary: "One requeue job's progress",
      responses: { 200: { description: 'the job', schema: requeueJobSchema }, 404: { description: 'no such job' } },
    },
    async (c) => c.json(await deps.requeue.get(c.req.param('id')!), 200),
  );
}
