// One definition per route feeds both hono (auth, query and body validation, handler) and the OpenAPI
// registry, so /openapi.json is generated from the same zod schemas that validate requests and cannot
// drift. Services receive bodies already validated.
import { OpenAPIRegistry, OpenApiGeneratorV31, type RouteConfig, extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import type { Context, Hono } from 'hono';
import { z } from 'zod';
import { HeraldError, fieldErrors } from '../domain/errors.js';
import type { Role } from '../domain/ledger-entry.js';
import type { ApiKeysService } from '../services/api-keys.js';
import { type HttpEnv, requireRole } from './auth.js';
import { readJson } from './body.js';
import { problemSchema } from './schemas.js';

extendZodWithOpenApi(z);

type Method = 'get' | 'post' | 'patch' | 'delete';

export interface RouteDef<Q extends z.ZodType | undefined, B extends z.ZodType | undefined = undefined> {
  method: Method;
  /** hono-style path, e.g. /v1/events/:id */
  path: string;
  role: Role | null;
  tag: string;
  summary: string;
  description?: string;
  query?: Q;
  /** Validates the JSON body (an empty body is {}): a 422 naming the fields, before the handler runs. */
  body?: B;
  /** The 422's detail when the body is not valid. */
  invalidBody?: string;
  /**
   * The body schema checks JSON values herald cannot record itself (it names the field); otherwise a
   * body with such values (a lone surrogate, 1e400, hostile nesting) is refused before the schema runs.
   */
  checksJsonValues?: boolean;
  headers?: z.ZodObject;
  responses: Record<number, { description: string; schema?: z.ZodType; contentType?: string }>;
}

/** `raw` is the body as JSON.parse made it (ingest fingerprints it, and keeps `data` exactly as sent). */
type Handler<Q, B> = (c: Context<HttpEnv>, query: Q, body: B, raw: unknown) => Response | Promise<Response>;

export const listQuery = {
  limit: z.coerce.number().int().min(1).max(500).default(50).describe('page size (default 50, max 500)'),
  cursor: z.string().max(200).optional().describe('next_cursor from the previous page'),
};

/** An RFC 3339 time in a query string, normalised to UTC. */
export const timeParam = z.iso
  .datetime({ offset: true })
  .transform((v) => new Date(v).toISOString())
  .optional();

export class Api {
  readonly registry = new OpenAPIRegistry();

  constructor(
    readonly app: Hono<HttpEnv>,
    private readonly keys: ApiKeysService,
  ) {
    this.registry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', description: 'an API key' });
  }

  route<Q extends z.ZodType | undefined = undefined, B extends z.ZodType | undefined = undefined>(
    def: RouteDef<Q, B>,
    handler: Handler<Q extends z.ZodType ? z.output<Q> : undefined, B extends z.ZodType ? z.output<B> : undefined>,
  ): void {
    this.document(def as RouteDef<z.ZodType | undefined, z.ZodType | undefined>);
    const middleware = def.role ? [requireRole(this.keys, def.role)] : [];
    this.app.on(def.method.toUpperCase(), [def.path], ...middleware, async (c) => {
      let query: unknown;
      if (def.query) {
        const parsed = def.query.safeParse(c.req.query());
        if (!parsed.success) throw new HeraldError('bad_request', 'the query string is not valid', fieldErrors(parsed.error.issues));
        query = parsed.data;
      }
      let raw: unknown;
      let body: unknown;
      if (def.body) {
        raw = await readJson(c, { checked: !def.checksJsonValues });
        const parsed = def.body.safeParse(raw ?? {});
        if (!parsed.success) throw new HeraldError('validation', def.invalidBody ?? 'the request body is not valid', fieldErrors(parsed.error.issues));
        body = parsed.data;
      }
      return handler(c as Context<HttpEnv>, query as never, body as never, raw);
    });
  }

  openApiDocument(version: string) {
    return new OpenApiGeneratorV31(this.registry.definitions).generateDocument({
      openapi: '3.1.0',
      info: {
        title: 'herald',
        version,
        description: 'Event-sourced notification ledger: durable ingest, signed delivery with retries, an auditable hash-chained ledger.',
      },
    });
  }

  private document(def: RouteDef<z.ZodType | undefined, z.ZodType | undefined>): void {
    const params = [...def.path.matchAll(/:(\w+)/g)].map((m) => m[1]!);
    const problems: Record<number, string> = def.role ? { 401: 'missing or invalid API key', 403: 'role not allowed' } : {};
    const responses: RouteConfig['responses'] = {};
    for (const [status, r] of Object.entries(def.responses)) {
      responses[status] = r.schema
        ? { description: r.description, content: { [r.contentType ?? 'application/json']: { schema: r.schema } } }
        : { description: r.description };
    }
    for (const [status, description] of Object.entries(problems)) {
      responses[status] ??= { description, content: { 'application/problem+json': { schema: problemSchema } } };
    }
    responses.default = { description: 'an RFC 9457 problem', content: { 'application/problem+json': { schema: problemSchema } } };
    this.registry.registerPath({
      method: def.method,
      path: def.path.replace(/:(\w+)/g, '{$1}'),
      tags: [def.tag],
      summary: def.summary,
      ...(def.description ? { description: def.description } : {}),
      ...(def.role ? { security: [{ bearer: [] }], 'x-herald-role': def.role } : {}),
      request: {
        ...(params.length > 0 ? { params: z.object(Object.fromEntries(params.map((p) => [p, z.string()]))) } : {}),
        ...(def.query instanceof z.ZodObject ? { query: def.query } : {}),
        ...(def.headers ? { headers: def.headers } : {}),
        ...(def.body ? { body: { content: { 'application/json': { schema: def.body } } } } : {}),
      },
      responses,
    });
  }
}
