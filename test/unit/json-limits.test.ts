// What untrusted JSON must satisfy: bounded depth, finite numbers, well-formed strings and keys.
import { describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH, jsonValueProblem } from '../../src/domain/json-limits.js';

function nested(depth: number, leaf: unknown = 1): unknown {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = i % 2 === 0 ? { k: v } : [v];
  return v;
}

describe('jsonValueProblem', () => {
  it('accepts ordinary JSON', () => {
    expect(jsonValueProblem({ a: [1, 'two', null, true, { b: 1.5e300 }], 'é🎉': 'ok' })).toBeNull();
    expect(jsonValueProblem(null)).toBeNull();
    expect(jsonValueProblem('text')).toBeNull();
  });

  it('accepts nesting up to the limit and refuses one level more', () => {
    expect(jsonValueProblem(nested(MAX_JSON_DEPTH))).toBeNull();
    expect(jsonValueProblem(nested(MAX_JSON_DEPTH + 1))).toMatch(/nest at most/);
    expect(jsonValueProblem(nested(3), 2)).toMatch(/nest at most 2/);
  });

  it('refuses hostile depth without overflowing the stack', () => {
    const deep = JSON.parse('['.repeat(100_000) + ']'.repeat(100_000)) as unknown;
    expect(jsonValueProblem(deep)).toMatch(/nest at most/);
  });

  it('refuses non-finite numbers (1e400 parses to Infinity)', () => {
    expect(jsonValueProblem(JSON.parse('{"n": 1e400}'))).toMatch(/finite/);
    expect(jsonValueProblem([Number.NaN])).toMatch(/finite/);
    expect(jsonValueProblem({ a: { b: -Infinity } })).toMatch(/finite/);
  });

  it('refuses lone surrogates in strings and in keys', () => {
    expect(jsonValueProblem(JSON.parse('{"s": "\\ud800"}'))).toMatch(/surrogate/);
    expect(jsonValueProblem(['ok', 'x\udc00'])).toMatch(/surrogate/);
    expect(jsonValueProblem(JSON.parse('{"\\udfff": 1}'))).toMatch(/surrogate/);
    expect(jsonValueProblem({ pair: '\ud83c\udf89' })).toBeNull();
  });
});
