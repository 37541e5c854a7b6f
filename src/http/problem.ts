// RFC 9457 problem+json: the one way herald answers an error. Never a stack trace; a 500 only for bugs.
import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { HeraldError, type ProblemType, problemTypeUri } from '../domain/errors.js';
import type { Logger } from '../logger.js';

export function problemBody(err: HeraldError) {
  return {
    type: problemTypeUri(err.type),
    title: err.title,
    status: err.status,
    ...(err.detail ? { detail: err.detail } : {}),
    ...(err.errors ? { errors: err.errors } : {}),
  };
}

export function problem(c: Context, err: HeraldError, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(problemBody(err)), {
    status: err.status,
    headers: { 'content-type': 'application/problem+json', ...headers },
  });
}

const BY_STATUS: Record<number, ProblemType> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  422: 'validation',
  503: 'unavailable',
};

/** The client went away before its request was read: it closed mid-body, or a timeout cut it off. */
function clientGone(c: Context): boolean {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  return incoming?.readableAborted === true;
}

export function errorHandler(log: Logger) {
  return (err: Error, c: Context): Response => {
    if (clientGone(c)) {
      // Nobody is left to read an answer; nothing went wrong in herald.
      log.debug({ err: err.message, method: c.req.method, path: c.req.path }, 'client closed the connection before its request was read');
      return problem(c, new HeraldError('bad_request', 'the request was not received whole'), { connection: 'close' });
    }
    if (err instanceof HeraldError) {
      if (err.status === 401) return problem(c, err, { 'www-authenticate': 'Bearer' });
      // A body refused as too large may be half read: the connection cannot carry another request.
      if (err.status === 413) return problem(c, err, { connection: 'close' });
      // A storage condition clears by itself (a lock released, space freed): ask clients to come back.
      if (err.status === 503 || err.status === 507) return problem(c, err, { 'retry-after': '1' });
      return problem(c, err);
    }
    if (err instanceof HTTPException) {
      const type = BY_STATUS[err.status] ?? (err.status >= 500 ? 'internal' : 'bad_request');
      return problem(c, new HeraldError(type, err.message || undefined));
    }
    log.error({ err, method: c.req.method, path: c.req.path }, 'unhandled error');
    return problem(c, new HeraldError('internal', 'herald hit an unexpected error; it has been logged'));
  };
}

export function notFound(c: Context): Response {
  return problem(c, new HeraldError('not_found', `no route for ${c.req.method} ${c.req.path}`));
}
