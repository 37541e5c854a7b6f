// The console's pure pieces: local times in the browser's zone (daylight saving included), and the
// endpoint form turned into the API's input.
import { describe, expect, it } from 'vitest';
import { endpointInputFromForm } from '../../src/console/endpoint-form.js';
import { parseTime, zoneOf } from '../../src/console/filters.js';

describe('console time filters', () => {
  it('reads a local time in the zone given, with that date’s offset', () => {
    expect(parseTime('2026-07-01T12:00', 'Europe/Berlin')).toBe('2026-07-01T10:00:00.000Z'); // summer time, +2
    expect(parseTime('2026-01-15T12:00', 'Europe/Berlin')).toBe('2026-01-15T11:00:00.000Z'); // winter, +1
    expect(parseTime('2026-03-08T01:30', 'America/New_York')).toBe('2026-03-08T06:30:00.000Z');
    expect(parseTime('2026-12-02T09:00', 'UTC')).toBe('2026-12-02T09:00:00.000Z');
  });

  it('takes RFC 3339 as given, and refuses what is not a time', () => {
    expect(parseTime('2026-12-02T09:00:00+09:00', 'Europe/Berlin')).toBe('2026-12-02T00:00:00.000Z');
    expect(parseTime(undefined, 'UTC')).toBeUndefined();
    expect(() => parseTime('yesterday', 'UTC')).toThrow(/not a time/);
    expect(() => parseTime('+275760-09-14T00:00:00Z', 'UTC')).toThrow(/not a time/);
  });

  it('falls back to UTC for a zone that is not one', () => {
    expect(zoneOf('Asia/Tokyo')).toBe('Asia/Tokyo');
    expect(zoneOf('Not/AZone')).toBe('UTC');
    expect(zoneOf(42)).toBe('UTC');
  });
});

describe('console endpoint form', () => {
  it('keeps "no retries" apart from "the default", and users with commas whole', () => {
    const none = endpointInputFromForm('webhook', { url: 'https://example.com/h', events: 'job.*', retry_schedule: 'none', users: 'smith, j\nalice' }, true);
    expect(none.input).toMatchObject({ retry: { schedule_s: [] }, users: ['smith, j', 'alice'] });
    const blank = endpointInputFromForm('webhook', { url: 'https://example.com/h', events: 'job.*', retry_schedule: '' }, true);
    expect(blank.input.retry).toBeNull();
    const some = endpointInputFromForm('webhook', { url: 'https://example.com/h', events: 'a, b', retry_schedule: '5, 30' }, false);
    expect(some.input).toMatchObject({ channel: 'webhook', events: ['a', 'b'], retry: { schedule_s: [5, 30] }, enabled: false });
  });

  it('names the field that is not valid', () => {
    expect(endpointInputFromForm('webhook', { url: 'x', events: '*', retry_schedule: 'soon' }, false).errors).toEqual({ retry_schedule: expect.stringContaining('seconds') });
    expect(endpointInputFromForm('webhook', { url: 'x', events: '*', template: '[1]' }, false).errors).toEqual({ template: 'must be a JSON object' });
  });
});
