// Bearer API keys and roles: 401 without a valid key, 403 when the key's role may not do the thing.
import type { MiddlewareHandler } from 'hono';
import { HeraldError } from '../domain/errors.js';
import type { Role } from '../domain/ledger-entry.js';
import { type ApiKeysService, roleAllows } from '../services/api-keys.js';
import type { Principal } from '../services/context.js';

export type HttpEnv = { Variables: { principal: Principal } };

export function requireRole(keys: ApiKeysService, role: Role): MiddlewareHandler<HttpEnv> {
  return async (c, next) => {
    const header = c.req.header('authorization');
    const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!m) throw new HeraldError('unauthorized', 'send Authorization: Bearer <api key>');
    const principal = await keys.authenticate(m[1]!);
    if (!principal) throw new HeraldError('unauthorized', 'this API key is not valid (unknown or revoked)');
    if (!roleAllows(principal.role, role)) {
      throw new HeraldError('forbidden', `this needs the ${role} role; the key "${principal.name}" has ${principal.role}`);
    }
    c.set('principal', principal);
    await next();
  };
}
