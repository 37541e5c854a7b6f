import canonicalize from 'canonicalize';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/domain/canonical-json.js';

describe('canonicalJson (RFC 8785)', () => {
  it('is byte-identical to the canonicalize package on generated JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (v) => {
        expect(canonicalJson(v)).toBe(canonicalize(v));
      }),
      { numRuns: 2000 },
    );
  });

  it('sorts keys by UTF-16 code units and serialises numbers as ECMAScript does', () => {
    const v = { '\u20ac': 1, '\r': 2, '\ud83d\ude00': 3, '1': 4, a: [1e21, 1e-7, -0, 0.1 + 0.2, 'é'], b: null, c: true };
    expect(canonicalJson(v)).toBe(canonicalize(v));
    expect(canonicalJson(v)).toBe('{"\\r":2,"1":4,"a":[1e+21,1e-7,0,0.30000000000000004,"é"],"b":null,"c":true,"€":1,"😀":3}');
  });

  it('refuses what has no canonical form: lone surrogates (values and keys), NaN, Infinity', () => {
    expect(() => canonicalJson({ a: '\ud800' })).toThrow(/lone surrogate/);
    expect(() => canonicalJson({ '\udc00': 1 })).toThrow(/lone surrogate/);
    expect(() => canonicalJson([Number.NaN])).toThrow();
    expect(() => canonicalJson({ a: Number.POSITIVE_INFINITY })).toThrow();
    expect(() => canonicalJson(undefined)).toThrow();
  });

  it('drops undefined members and writes undefined array items as null, as JSON.stringify does', () => {
    expect(canonicalJson({ b: undefined, a: [undefined, 1] })).toBe('{"a":[null,1]}');
  });
});
