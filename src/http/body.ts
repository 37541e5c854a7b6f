// Request bodies: JSON only (415 otherwise), bounded in size (413), malformed JSON is a 400.
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HeraldError } from '../domain/errors.js';
import { jsonValueProblem } from '../domain/json-limits.js';

const JSON_TYPE = /^application\/([\w.-]+\+)?json$/i;

function hasBody(c: Context): boolean {
  const len = c.req.header('content-length');
  if (len !== undefined) return Number(len) > 0;
  return c.req.header('transfer-encoding') !== undefined;
}

/** Refuses non-JSON bodies on writes and bounds body size per path (the largest for batches). */
export function jsonBodies(limitFor: (path: string) => number): MiddlewareHandler {
  const limiters = new Map<number, MiddlewareHandler>();
  const limiter = (max: number) => {
    let l = limiters.get(max);
    if (!l) {
      l = bodyLimit({
        maxSize: max,
        onError: () => {
          throw new HeraldError('payload_too_large', `the request body may be at most ${max} bytes`);
        },
      });
      limiters.set(max, l);
    }
    return l;
  };
  return async (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD' || c.req.method === 'OPTIONS') return next();
    if (hasBody(c)) {
      const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim();
      if (!JSON_TYPE.test(type)) throw new HeraldError('unsupported_media_type', 'send the body as application/json');
    }
    const max = limitFor(c.req.path);
    // With a Content-Length (which node's parser holds the body to) the check needs no reading; hono's
    // bodyLimit would build a web Request and stream the body through it, the costliest part of a
    // small request. Chunked bodies go through bodyLimit, which counts while it reads.
    const len = c.req.header('content-length');
    if (len !== undefined && c.req.header('transfer-encoding') === undefined) {
      if (Number(len) > max) throw new HeraldError('payload_too_large', `the request body may be at most ${max} bytes`);
      return next();
    }
    return limiter(max)(c, next);
  };
}

/**
 * The parsed JSON body, or undefined when there is none. A body that cannot be recorded (a lone
 * surrogate has no canonical JSON, 1e400 parses to Infinity, hostile nesting) is a 422 here, unless
 * the caller checks it itself (`checked: false`: events, whose batch items fail one by one).
 */
export async function readJson(c: Context, opts: { checked?: boolean } = {}): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch {
    throw new HeraldError('bad_request', 'the request body is not valid JSON');
  }
  if (opts.checked !== false) {
    const problem = jsonValueProblem(value);
    if (problem) throw new HeraldError('validation', 'the request body is not valid', [{ path: '', message: problem }]);
  }
  return value;
}
