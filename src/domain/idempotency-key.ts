// The Idempotency-Key header as the IETF draft writes it: a Structured-Field string ("quoted"),
// which herald also accepts bare. Keys are 1 to 255 characters.
import { HeraldError } from './errors.js';

export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

export function parseIdempotencyKey(header: string | undefined | null): string {
  if (header == null || header.trim() === '') {
    throw new HeraldError('idempotency_key_missing', 'send an Idempotency-Key header (any unique string, at most 255 characters) with every event');
  }
  let key = header.trim();
  if (key.startsWith('"')) {
    // sf-string: "..." with \" and \\ as the only escapes
    const m = /^"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*)"$/.exec(key);
    if (!m) throw new HeraldError('idempotency_key_invalid', 'a quoted Idempotency-Key must be a valid Structured-Field string');
    key = m[1]!.replace(/\\(["\\])/g, '$1');
  }
  return checkKey(key);
}

/** Validates a key given in a JSON body (a batch item's idempotency_key). */
export function checkKey(key: unknown): string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new HeraldError('idempotency_key_missing', 'each event needs an idempotency_key (a non-empty string)');
  }
  if (key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    throw new HeraldError('idempotency_key_invalid', `an Idempotency-Key may be at most ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`);
  }
  if (!key.isWellFormed() || /[\0-\x1f\x7f]/.test(key)) {
    throw new HeraldError('idempotency_key_invalid', 'an Idempotency-Key may not contain control characters');
  }
  return key;
}
