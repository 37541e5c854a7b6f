// Who is using the console: the session cookie names an API key, looked up on every request; pages
// need a role, and every form post needs the session's CSRF token (a forged post writes nothing).
import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { Role } from '../domain/ledger-entry.js';
import { type ApiKeysService, roleAllows } from '../services/api-keys.js';
import type { Principal } from '../services/context.js';
import { SESSION_COOKIE, SESSION_TTL_MS, type Session, type SessionSigner } from './session.js';

export type ConsoleEnv = { Variables: { principal: Principal; session: Session; csrf: string } };
export type ConsoleContext = Context<ConsoleEnv>;

export const CSRF_FIELD = '_csrf';
export const CSRF_HEADER = 'x-csrf-token';

export function startSession(c: Context, signer: SessionSigner, keyId: string, now: number): void {
  setCookie(c, SESSION_COOKIE, signer.issue(keyId, now), {
    path: '/console',
    httpOnly: true,
    sameSite: 'Strict',
    // herald speaks plain HTTP; behind a TLS proxy the browser reached it over HTTPS (saying so only
    // makes the cookie stricter, so the header needs no trust).
    secure: new URL(c.req.url).protocol === 'https:' || /\bhttps\b/i.test(c.req.header('x-forwarded-proto') ?? ''),
    maxAge: SESSION_TTL_MS / 1000,
  });
}

export function endSession(c: Context): void {
  deleteCookie(c, SESSION_COOKIE, { path: '/console' });
}

export class ConsoleRefusal extends Error {
  constructor(
    readonly status: 401 | 403,
    message: string,
  ) {
    super(message);
  }
}

/** Signed in (else to the sign-in page), with a key that may still read. */
export function signedIn(signer: SessionSigner, keys: ApiKeysService, clock: () => Date): MiddlewareHandler<ConsoleEnv> {
  return async (c, next) => {
    const session = signer.read(getCookie(c, SESSION_COOKIE), clock().getTime());
    const principal = session ? await keys.principalById(session.keyId) : null;
    if (!session || !principal || !roleAllows(principal.role, 'read')) {
      if (c.req.method === 'GET') {
        const next = new URL(c.req.url);
        return c.redirect(`/console/login?next=${encodeURIComponent(next.pathname + next.search)}`, 303);
      }
      throw new ConsoleRefusal(401, 'Your session has ended. Sign in again.');
    }
    c.set('session', session);
    c.set('principal', principal);
    c.set('csrf', signer.csrfToken(session));
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') {
      const form = (c.req.header('content-type') ?? '').includes('form') ? await formFields(c) : {};
      const token = c.req.header(CSRF_HEADER) ?? (typeof form[CSRF_FIELD] === 'string' ? (form[CSRF_FIELD] as string) : undefined);
      if (!signer.checkCsrf(session, token)) throw new ConsoleRefusal(403, 'This form is out of date or did not come from the console. Reload the page and try again.');
    }
    await next();
  };
}

/** A page or action that needs more than `read`. */
export function needs(role: Role): MiddlewareHandler<ConsoleEnv> {
  return async (c, next) => {
    const p = c.get('principal');
    if (!roleAllows(p.role, role)) throw new ConsoleRefusal(403, `This needs the ${role} role; the key "${p.name}" has ${p.role}.`);
    await next();
  };
}

export const can = (c: ConsoleContext, role: Role) => roleAllows(c.get('principal').role, role);

/** A posted form's text fields (a multipart post's files are dropped: no console form takes one). */
export async function formFields(c: Context): Promise<Record<string, string>> {
  const body = await c.req.parseBody();
  return Object.fromEntries(Object.entries(body).filter((e): e is [string, string] => typeof e[1] === 'string'));
}
