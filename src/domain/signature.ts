// Standard Webhooks signing: v1,<base64 HMAC-SHA256(secret bytes, "id.timestamp.body")>.
import { createHmac, randomBytes } from 'node:crypto';

const SECRET_PREFIX = 'whsec_';

export function newSigningSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64');
}

/** A valid secret is `whsec_` followed by base64 of 24 to 64 bytes. */
export function isValidSigningSecret(secret: string): boolean {
  if (!secret.startsWith(SECRET_PREFIX)) return false;
  const b64 = secret.slice(SECRET_PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return false;
  const len = Buffer.from(b64, 'base64').length;
  return len >= 24 && len <= 64;
}

export function sign(secret: string, msgId: string, timestampS: number, body: string): string {
  const key = Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, 'base64');
  const mac = createHmac('sha256', key).update(`${msgId}.${timestampS}.${body}`).digest('base64');
  return `v1,${mac}`;
}

/** The `webhook-signature` value: one signature per active secret, space-separated (secret rotation). */
export function signatureHeader(secrets: readonly string[], msgId: string, timestampS: number, body: string): string {
  return secrets.map((s) => sign(s, msgId, timestampS, body)).join(' ');
}
