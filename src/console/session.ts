// Console sessions: a signed cookie naming the API key that signed in (never the key itself) and when
// the session ends, and a CSRF token derived from that cookie. Nothing is kept on the server, so a
// session survives a restart; revoking the key ends its sessions (the key is looked up on every request).
import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

export const SESSION_COOKIE = 'herald_session';
export const SESSION_TTL_MS = 12 * 3600_000;

export interface Session {
  keyId: string;
  expiresAt: number;
  /** The cookie value itself, which the CSRF token is bound to. */
  raw: string;
}

export class SessionSigner {
  private readonly key: Buffer;

  /** `secret` is herald's encryption key; the signing key is derived from it for this one purpose. */
  constructor(secret: Buffer) {
    this.key = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'herald console session', 32));
  }

  issue(keyId: string, now: number): string {
    const payload = Buffer.from(JSON.stringify({ k: keyId, e: now + SESSION_TTL_MS, n: randomBytes(12).toString('base64url') })).toString('base64url');
    return `${payload}.${this.mac(payload)}`;
  }

  read(value: string | undefined, now: number): Session | null {
    if (!value || value.length > 1024) return null;
    const [payload, mac] = value.split('.');
    if (!payload || !mac || !this.equal(mac, this.mac(payload))) return null;
    try {
      const { k, e } = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { k?: unknown; e?: unknown };
      if (typeof k !== 'string' || typeof e !== 'number' || e <= now) return null;
      return { keyId: k, expiresAt: e, raw: value };
    } catch {
      return null;
    }
  }

  csrfToken(session: Session): string {
    return this.mac(`csrf:${session.raw}`);
  }

  checkCsrf(session: Session, token: string | undefined): boolean {
    return typeof token === 'string' && this.equal(token, this.csrfToken(session));
  }

  private mac(text: string): string {
    return createHmac('sha256', this.key).update(text).digest('base64url');
  }

  private equal(a: string, b: string): boolean {
    const x = Buffer.from(a);
    const y = Buffer.from(b);
    return x.length === y.length && timingSafeEqual(x, y);
  }
}
