// Retry rules: which outcomes are retried, the delay before the next attempt, Retry-After parsing.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_JITTER, DEFAULT_SCHEDULE_S, MAX_RETRY_AFTER_S, classify, maxAttempts, parseRetryAfter, retryDelayS } from '../../src/domain/retry-policy.js';

describe('classify', () => {
  it('success is success, whatever the code', () => {
    expect(classify({ outcome: 'succeeded', status_code: 200 })).toBe('succeeded');
    expect(classify({ outcome: 'succeeded', status_code: 250 })).toBe('succeeded');
  });

  it('network errors, timeouts and interruptions are retried', () => {
    for (const outcome of ['network_error', 'timeout', 'interrupted'] as const) expect(classify({ outcome })).toBe('retry');
  });

  it('HTTP 408, 429 and 5xx are retried; other 4xx and 3xx are permanent', () => {
    for (const code of [408, 429, 500, 502, 503, 504, 599]) expect(classify({ outcome: 'http_error', status_code: code })).toBe('retry');
    for (const code of [300, 301, 302, 307, 308, 400, 401, 403, 404, 410, 413, 422]) {
      expect(classify({ outcome: 'http_error', status_code: code })).toBe('permanent');
    }
    expect(classify({ outcome: 'http_error', status_code: null })).toBe('retry');
  });

  it('SMTP 4xx replies are retried, 5xx are permanent', () => {
    expect(classify({ outcome: 'smtp_error', status_code: 421 })).toBe('retry');
    expect(classify({ outcome: 'smtp_error', status_code: 451 })).toBe('retry');
    expect(classify({ outcome: 'smtp_error', status_code: 550 })).toBe('permanent');
    expect(classify({ outcome: 'smtp_error', status_code: null })).toBe('retry');
  });

  it('a channel can mark any failure permanent', () => {
    expect(classify({ outcome: 'network_error', permanent: true })).toBe('permanent');
    expect(classify({ outcome: 'http_error', status_code: 503, permanent: true })).toBe('permanent');
  });
});

describe('retryDelayS', () => {
  const half = () => 0.5;

  it('follows an explicit schedule, then stops (attempts = length + 1)', () => {
    const p = { schedule_s: [5, 30, 120] };
    expect(maxAttempts(p)).toBe(4);
    expect([1, 2, 3, 4].map((n) => retryDelayS(p, n, half))).toEqual([5, 30, 120, null]);
    expect(retryDelayS({ schedule_s: [] }, 1, half)).toBeNull();
  });

  it('the default schedule is about 1.5 days over 12 attempts, with ±10 % jitter', () => {
    expect(maxAttempts(null)).toBe(12);
    const total = DEFAULT_SCHEDULE_S.reduce((a, b) => a + b, 0);
    expect(total / 86_400).toBeGreaterThan(1.3);
    expect(total / 86_400).toBeLessThan(1.7);
    expect(retryDelayS(null, 1, half)).toBeCloseTo(5);
    expect(retryDelayS(null, 1, () => 0)).toBeCloseTo(5 * (1 - DEFAULT_JITTER));
    expect(retryDelayS(null, 1, () => 0.999999)).toBeCloseTo(5 * (1 + DEFAULT_JITTER), 3);
    expect(retryDelayS(null, 12, half)).toBeNull();
  });

  it('exponential backoff stays within [step/2, step] and is capped by max_s (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 19 }),
        fc.integer({ min: 0, max: 100 }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.double({ min: 0, max: 0.999999, noNaN: true }),
        (n, base, max, r) => {
          const p = { max_attempts: 20, base_s: base, max_s: max };
          const d = retryDelayS(p, n, () => r);
          const step = Math.min(max, base * 2 ** (n - 1));
          expect(d).not.toBeNull();
          expect(d!).toBeGreaterThanOrEqual(step / 2 - 1e-9);
          expect(d!).toBeLessThanOrEqual(step + 1e-9);
        },
      ),
    );
    expect(retryDelayS({ max_attempts: 3, base_s: 1, max_s: 60 }, 3, half)).toBeNull();
  });

  it('a Retry-After replaces the computed delay, bounded', () => {
    expect(retryDelayS({ schedule_s: [5, 30] }, 1, half, 90)).toBe(90);
    expect(retryDelayS({ schedule_s: [5, 30] }, 1, half, 10 * MAX_RETRY_AFTER_S)).toBe(MAX_RETRY_AFTER_S);
    expect(retryDelayS({ schedule_s: [5, 30] }, 1, half, 0)).toBe(0);
    expect(retryDelayS({ schedule_s: [5, 30] }, 1, half, -3)).toBe(5);
    expect(retryDelayS({ schedule_s: [5, 30] }, 1, half, Number.NaN)).toBe(5);
    // ...but never extends a policy that is exhausted
    expect(retryDelayS({ schedule_s: [5] }, 2, half, 60)).toBeNull();
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-03-01T12:00:00Z');

  it('reads delta-seconds', () => {
    expect(parseRetryAfter('120', now)).toBe(120);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('1.5', now)).toBe(1.5);
  });

  it('reads an HTTP date relative to now, never negative', () => {
    expect(parseRetryAfter('Sun, 01 Mar 2026 12:01:30 GMT', now)).toBe(90);
    expect(parseRetryAfter(new Date(now + 5000).toUTCString(), now)).toBe(5);
    expect(parseRetryAfter('Sun, 01 Mar 2026 11:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('Sunday, 01-Mar-26 12:01:30 GMT', now)).toBe(90);
    expect(parseRetryAfter('-5', now)).toBeNull();
    expect(parseRetryAfter('2026-03-01T12:01:30Z', now)).toBeNull();
  });

  it('ignores what it cannot read', () => {
    expect(parseRetryAfter(null, now)).toBeNull();
    expect(parseRetryAfter(undefined, now)).toBeNull();
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter('', now)).toBeNull();
  });
});
