// Canonical JSON (RFC 8785, JCS) and SHA-256: the byte form that ledger hashes and idempotency
// fingerprints are computed over, independent of key order or whitespace.
//
// Every ingested event is canonicalised twice (its fingerprint, its ledger entry), and the
// `canonicalize` package spent a tenth of ingest's CPU scanning strings for lone surrogates in a
// JavaScript loop. This is the same algorithm with the engine's String#isWellFormed; the unit tests
// hold it to byte equality with `canonicalize` on generated JSON.
import { hash } from 'node:crypto';

const skipped = (v: unknown) => v === undefined || typeof v === 'function' || typeof v === 'symbol';

function canonicalString(s: string): string {
  if (!(s as string & { isWellFormed(): boolean }).isWellFormed()) throw new TypeError('a lone surrogate has no canonical JSON');
  return JSON.stringify(s);
}

function write(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return canonicalString(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`${value} has no JSON form`);
      return JSON.stringify(value); // ECMAScript Number::toString, which is what JCS prescribes
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      // Built by concatenation (no array of parts per object): this runs for every ledger entry.
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          const v: unknown = value[i];
          out += (i === 0 ? '' : ',') + (skipped(v) ? 'null' : write(v));
        }
        return `${out}]`;
      }
      const withToJson = value as { toJSON?: () => unknown };
      if (typeof withToJson.toJSON === 'function') return write(withToJson.toJSON());
      const record = value as Record<string, unknown>;
      let out = '{';
      for (const key of Object.keys(record).sort()) {
        const v = record[key];
        if (skipped(v)) continue;
        out += (out.length === 1 ? '' : ',') + canonicalString(key) + ':' + write(v);
      }
      return `${out}}`;
    }
    default:
      throw new TypeError(`a ${typeof value} has no JSON form`);
  }
}

export function canonicalJson(value: unknown): string {
  return write(value);
}

/** One-shot hashing (crypto.hash) skips the Hash object that createHash builds for every call. */
export function sha256Hex(text: string): string {
  return hash('sha256', text, 'hex');
}
