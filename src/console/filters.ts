// The console's list filters, read from the URL (so a filtered view can be shared). Empty fields mean
// "any"; times are RFC 3339, or a local date and time in the browser's time zone (`tz`: its IANA name,
// which the page fills in; UTC without JavaScript).
import { z } from 'zod';
import { CHANNELS } from '../domain/endpoint.js';
import { HeraldError } from '../domain/errors.js';

const blank = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : typeof v === 'string' ? v.trim() : v);
const text = (max: number) => z.preprocess(blank, z.string().max(max).optional());

/** How far `zone` is ahead of UTC at the instant `ms` (ms). */
function zoneOffset(zone: string, ms: number): number {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' })
      .formatToParts(new Date(ms))
      .map((p) => [p.type, Number(p.value)]),
  );
  return Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!) - Math.floor(ms / 1000) * 1000;
}

const validZone = (zone: string) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
};

/** The time zone a form's local times are in (its `tz` field; UTC when absent or not a zone). */
export const zoneOf = (tz: unknown): string => (typeof tz === 'string' && tz.length <= 64 && validZone(tz) ? tz : 'UTC');

/**
 * A time field: `2026-12-02T10:30` (local time in `zone`, its offset on that date, so daylight saving
 * is right) or a full RFC 3339 time.
 */
export function parseTime(value: string | undefined, zone: string): string | undefined {
  if (!value) return undefined;
  const local = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?$/.test(value);
  let ms = Date.parse(local ? `${value.replace(' ', 'T')}Z` : value);
  if (Number.isNaN(ms) || Math.abs(ms) > 8.64e15) throw new HeraldError('bad_request', `not a time: ${value} (write it as 2026-12-02T09:30)`);
  if (local) {
    const guess = ms - zoneOffset(zone, ms);
    ms -= zoneOffset(zone, guess);
  }
  return new Date(ms).toISOString();
}

const timeRange = {
  since: text(40),
  until: text(40),
  tz: z.preprocess(blank, z.string().max(64).refine(validZone, 'not a time zone').default('UTC')),
  cursor: text(200),
};

export const deliveryFilters = z.object({
  status: z.preprocess(blank, z.enum(['pending', 'delivering', 'succeeded', 'failed', 'dead', 'cancelled']).optional()),
  endpoint_id: text(64),
  event_id: text(64),
  channel: z.preprocess(blank, z.enum(CHANNELS).optional()),
  type: text(200),
  ...timeRange,
});

export const eventFilters = z.object({
  id: text(64),
  key: text(255),
  type: text(200),
  subject: text(200),
  user: text(200),
  ...timeRange,
});

export type DeliveryFilterInput = z.output<typeof deliveryFilters>;
export type EventFilterInput = z.output<typeof eventFilters>;

/** The filters as URL parameters (what a link to this view carries). */
export function asParams(f: Record<string, unknown>): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(f).map(([k, v]) => [k, v === undefined || v === null || (k === 'tz' && v === 'UTC') ? undefined : String(v)]));
}

/** The query string of a view's filters, without its page (what "first page" and links to the view carry). */
export function filterQuery(params: Record<string, string | undefined>): URLSearchParams {
  return new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => !!e[1] && e[0] !== 'cursor'));
}

/** The filters in a URL, or a 400 naming what is wrong with them. */
export function readFilters<S extends z.ZodType>(schema: S, query: Record<string, string>): z.output<S> {
  const parsed = schema.safeParse(query);
  if (!parsed.success) throw new HeraldError('bad_request', `Some filters are not valid: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'value'}: ${i.message}`).join('; ')}`);
  return parsed.data;
}
