// Canonical JSON (RFC 8785, JCS) and SHA-256: the byte form that ledger hashes and idempotency
// fingerprints are computed over, independent of key order or whitespace.
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';

export function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError('value cannot be represented as canonical JSON');
  return text;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
