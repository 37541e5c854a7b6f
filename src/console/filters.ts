// The console's list filters, read from the URL (so a filtered view can be shared). Empty fields mean
// "any"; times come from datetime-local inputs in the browser's time zone (`tz`: its offset in minutes
// east of UTC, 0 without JavaScript) or as RFC 3339.
import { z } from 'zod';
import { CHANNELS } from '../domain/endpoint.js';

const blank = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : typeof v === 'string' ? v.trim() : v);
const text = (max: number) => z.preprocess(blank, z.string().max(max).optional());

/** A time field: `2026-12-02T10:30` (local, shifted by tz) or a full RFC 3339 time. */
export function parseTime(value: string | undefined, tzMinutes: number): string | undefined {
  if (!value) return undefined;
  const local = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value);
  const ms = local ? Date.parse(`${value}Z`) - tzMinutes * 60_000 : Date.parse(value);
  if (Number.isNaN(ms)) throw new z.ZodError([{ code: 'custom', path: [], message: `not a time: ${value}`, input: value }]);
  return new Date(ms).toISOString();
}

const timeRange = {
  since: text(40),
  until: text(40),
  tz: z.preprocess(blank, z.coerce.number().int().min(-900).max(900).default(0)),
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
  return Object.fromEntries(Object.entries(f).map(([k, v]) => [k, v === undefined || v === null || (k === 'tz' && v === 0) ? undefined : String(v)]));
}
