// The Idempotency-Key header: bare or a Structured-Field string, 1 to 255 characters.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HeraldError } from '../../src/domain/errors.js';
import { checkKey, parseIdempotencyKey } from '../../src/domain/idempotency-key.js';

function problemOf(fn: () => unknown): { type: string; status: number } {
  try {
    fn();
  } catch (err) {
    if (err instanceof HeraldError) return { type: err.type, status: err.status };
    throw err;
  }
  throw new Error('expected a HeraldError');
}

describe('parseIdempotencyKey', () => {
  it('takes a bare key as it is (trimmed)', () => {
    expect(parseIdempotencyKey('abc')).toBe('abc');
    expect(parseIdempotencyKey('  order-42:retry ')).toBe('order-42:retry');
    expect(parseIdempotencyKey('8e03978e-40d5-43e8-bc93-6894a57f9324')).toBe('8e03978e-40d5-43e8-bc93-6894a57f9324');
  });

  it('unquotes a Structured-Field string, so "abc" is the same key as abc', () => {
    expect(parseIdempotencyKey('"abc"')).toBe('abc');
    expect(parseIdempotencyKey('"abc"')).toBe(parseIdempotencyKey('abc'));
    expect(parseIdempotencyKey('"with space"')).toBe('with space');
  });

  it('unescapes \\" and \\\\ inside a quoted key', () => {
    expect(parseIdempotencyKey('"a\\"b"')).toBe('a"b');
    expect(parseIdempotencyKey('"back\\\\slash"')).toBe('back\\slash');
    expect(parseIdempotencyKey('"\\"\\\\\\""')).toBe('"\\"');
  });

  it('refuses a malformed quoted key (400)', () => {
    for (const bad of ['"unterminated', '"bad \\n escape"', '"inner " quote"', '"é"']) {
      expect(problemOf(() => parseIdempotencyKey(bad))).toEqual({ type: 'idempotency_key_invalid', status: 400 });
    }
  });

  it('a missing or blank header is a 400', () => {
    for (const missing of [undefined, null, '', '   ']) {
      expect(problemOf(() => parseIdempotencyKey(missing))).toEqual({ type: 'idempotency_key_missing', status: 400 });
    }
  });

  it('accepts 255 characters and refuses 256 (400), bare or quoted', () => {
    expect(parseIdempotencyKey('k'.repeat(255))).toHaveLength(255);
    expect(parseIdempotencyKey(`"${'k'.repeat(255)}"`)).toHaveLength(255);
    expect(problemOf(() => parseIdempotencyKey('k'.repeat(256)))).toEqual({ type: 'idempotency_key_invalid', status: 400 });
    expect(problemOf(() => parseIdempotencyKey(`"${'k'.repeat(256)}"`))).toEqual({ type: 'idempotency_key_invalid', status: 400 });
  });

  it('quoting any printable ASCII key round-trips to the bare key (property)', () => {
    const printable = fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 255 });
    fc.assert(
      fc.property(printable, (key) => {
        fc.pre(!key.startsWith('"'));
        const quoted = `"${key.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
        expect(parseIdempotencyKey(quoted)).toBe(key);
        expect(parseIdempotencyKey(key)).toBe(key);
      }),
    );
  });
});

describe('checkKey (a batch item idempotency_key)', () => {
  it('refuses what is not a non-empty string as missing', () => {
    for (const v of [undefined, null, '', 42, {}, []]) expect(problemOf(() => checkKey(v))).toEqual({ type: 'idempotency_key_missing', status: 400 });
  });

  it('refuses control characters, lone surrogates and more than 255 characters', () => {
    for (const v of ['a\nb', 'a\u0000', 'x\u007f', 'a\ud800', 'k'.repeat(256)]) {
      expect(problemOf(() => checkKey(v))).toEqual({ type: 'idempotency_key_invalid', status: 400 });
    }
    expect(checkKey('ключ-🎉')).toBe('ключ-🎉');
  });
});
