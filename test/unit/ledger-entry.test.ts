// The hash chain: entryHash over canonical JSON, the hot-path variant that takes a canonical body,
// and checkLink, which must notice any edit, gap or relinking.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, sha256Hex } from '../../src/domain/canonical-json.js';
import { GENESIS_HASH, checkLink, entryHash, entryHashFromCanonicalBody } from '../../src/domain/ledger-entry.js';

interface Entry {
  seq: number;
  at: string;
  kind: string;
  stream: string;
  actor: string;
  body: unknown;
  prev_hash: string;
  hash: string;
}

/** Any JSON value herald could hold: finite numbers, well-formed strings (including non-BMP and control characters). */
const jsonBody = fc.jsonValue({ maxDepth: 5, stringUnit: 'grapheme' }).map((v) => JSON.parse(JSON.stringify(v)) as unknown);
const text = fc.string({ unit: 'grapheme', maxLength: 40 });
const envelope = fc.record({
  seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  at: fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString()),
  kind: text,
  stream: text,
  actor: text,
});

function chain(bodies: unknown[]): Entry[] {
  let prev = GENESIS_HASH;
  return bodies.map((body, i) => {
    const e = { seq: i + 1, at: new Date(1_700_000_000_000 + i * 1000).toISOString(), kind: 'event.received', stream: `evt_${i}`, actor: 'test', body };
    const hash = entryHash(prev, e);
    const entry = { ...e, prev_hash: prev, hash };
    prev = hash;
    return entry;
  });
}

/** The first entry that does not link, walking from the genesis hash (what verify does). */
function firstBreak(entries: Entry[]) {
  let prevSeq = 0;
  let prevHash = GENESIS_HASH;
  for (const e of entries) {
    const b = checkLink(prevSeq, prevHash, e);
    if (b) return b;
    prevSeq = e.seq;
    prevHash = e.hash;
  }
  return null;
}

describe('entryHash', () => {
  it('is sha256(prev_hash ‖ canonical JSON of the envelope), independent of key order', () => {
    const e = { seq: 1, at: '2026-01-01T00:00:00.000Z', kind: 'api_key.created', stream: 'key_1', actor: 'herald', body: { b: 1, a: [2, 'x'] } };
    const expected = sha256Hex(
      `${GENESIS_HASH}{"actor":"herald","at":"2026-01-01T00:00:00.000Z","body":{"a":[2,"x"],"b":1},"kind":"api_key.created","seq":1,"stream":"key_1"}`,
    );
    expect(entryHash(GENESIS_HASH, e)).toBe(expected);
    expect(entryHash(GENESIS_HASH, { ...e, body: { a: [2, 'x'], b: 1 } })).toBe(expected);
    expect(entryHash(GENESIS_HASH, e)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('depends on the previous hash and on every field', () => {
    const e = { seq: 7, at: '2026-01-01T00:00:00.000Z', kind: 'k', stream: 's', actor: 'a', body: { x: 1 } };
    const h = entryHash(GENESIS_HASH, e);
    expect(entryHash('1'.repeat(64), e)).not.toBe(h);
    for (const changed of [{ seq: 8 }, { at: '2026-01-01T00:00:00.001Z' }, { kind: 'k2' }, { stream: 's2' }, { actor: 'b' }, { body: { x: 2 } }]) {
      expect(entryHash(GENESIS_HASH, { ...e, ...changed })).not.toBe(h);
    }
  });

  it('entryHashFromCanonicalBody equals entryHash for arbitrary JSON bodies and envelopes', () => {
    fc.assert(
      fc.property(envelope, jsonBody, fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 64, maxLength: 64 }), (env, body, prev) => {
        expect(entryHashFromCanonicalBody(prev, env, canonicalJson(body))).toBe(entryHash(prev, { ...env, body }));
      }),
      { numRuns: 500 },
    );
  });

  it('entryHashFromCanonicalBody equals entryHash for awkward strings (escapes, unicode, U+2028)', () => {
    const odd = ['"quoted"', 'back\\slash', 'line\nbreak', '\u2028\u2029', '\u0000\u001f\u007f', 'é 日本 🎉', '</script>'];
    for (const s of odd) {
      const env = { seq: 3, at: '2026-01-01T00:00:00.000Z', kind: s, stream: s, actor: s };
      const body = { [s]: s, list: [s, 1.5, -0, 1e21, null, true] };
      expect(entryHashFromCanonicalBody(GENESIS_HASH, env, canonicalJson(body))).toBe(entryHash(GENESIS_HASH, { ...env, body }));
    }
  });
});

describe('checkLink', () => {
  it('accepts an intact chain of arbitrary bodies', () => {
    fc.assert(
      fc.property(fc.array(jsonBody, { minLength: 1, maxLength: 8 }), (bodies) => {
        expect(firstBreak(chain(bodies))).toBeNull();
      }),
      { numRuns: 200 },
    );
  });

  it('names the edited entry when any one body is changed', () => {
    fc.assert(
      fc.property(
        fc.array(jsonBody, { minLength: 1, maxLength: 8 }),
        fc.nat(),
        jsonBody,
        (bodies, pick, replacement) => {
          const entries = chain(bodies);
          const i = pick % entries.length;
          fc.pre(canonicalJson(replacement) !== canonicalJson(entries[i]!.body));
          entries[i] = { ...entries[i]!, body: replacement };
          expect(firstBreak(entries)).toEqual({ seq: i + 1, reason: 'hash_mismatch' });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('names the entry when its envelope is edited (actor, kind, time)', () => {
    for (const edit of [{ actor: 'mallory' }, { kind: 'api_key.revoked' }, { at: '1999-01-01T00:00:00.000Z' }, { stream: 'other' }]) {
      const entries = chain([{ a: 1 }, { b: 2 }, { c: 3 }]);
      entries[1] = { ...entries[1]!, ...edit };
      expect(firstBreak(entries)).toEqual({ seq: 2, reason: 'hash_mismatch' });
    }
  });

  it('catches a recomputed hash through the next entry (prev_hash no longer matches)', () => {
    const entries = chain([{ a: 1 }, { b: 2 }, { c: 3 }]);
    const edited = { ...entries[1]!, body: { b: 999 } };
    edited.hash = entryHash(edited.prev_hash, edited);
    entries[1] = edited;
    expect(firstBreak(entries)).toEqual({ seq: 3, reason: 'prev_hash_mismatch' });
  });

  it('catches a deleted entry (a gap in seq) and a reordered one', () => {
    const entries = chain([{ a: 1 }, { b: 2 }, { c: 3 }, { d: 4 }]);
    expect(firstBreak([entries[0]!, entries[2]!, entries[3]!])).toEqual({ seq: 3, reason: 'seq_gap' });
    expect(firstBreak([entries[0]!, entries[2]!, entries[1]!])).toEqual({ seq: 3, reason: 'seq_gap' });
  });

  it('catches a first entry that does not start from the genesis hash', () => {
    const [first] = chain([{ a: 1 }]);
    const forged = { ...first!, prev_hash: 'f'.repeat(64) };
    forged.hash = entryHash(forged.prev_hash, forged);
    expect(firstBreak([forged])).toEqual({ seq: 1, reason: 'prev_hash_mismatch' });
  });
});
