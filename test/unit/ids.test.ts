// Ids: prefixed ULIDs, unique and in creation order (the pooled random source must not break either).
import { describe, expect, it } from 'vitest';
import { newId } from '../../src/domain/ids.js';

describe('newId', () => {
  it('makes prefixed, unique ULIDs that sort in creation order, also within one millisecond', () => {
    const now = Date.now();
    const ids = Array.from({ length: 20_000 }, (_, i) => newId('evt', now + Math.floor(i / 5000)));
    for (const id of ids) expect(id).toMatch(/^evt_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });

  it('draws the random part evenly from all 32 characters', () => {
    const counts = new Map<string, number>();
    const later = Date.now() + 86_400_000; // a new millisecond each time, so the random part is fresh
    for (let i = 0; i < 4000; i++) {
      const random = newId('msg', later + i).slice(4 + 10); // after the prefix and the time part
      for (const ch of random.slice(1)) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    }
    expect(counts.size).toBe(32);
    const expected = (4000 * 15) / 32;
    for (const n of counts.values()) expect(Math.abs(n - expected)).toBeLessThan(expected * 0.2);
  });
});
