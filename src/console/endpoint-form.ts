// The endpoint form: its fields turned into the API's endpoint input (or patch), so the console
// checks exactly what the API checks and shows the same messages beside the fields.
import type { z } from 'zod';
import type { Channel } from '../domain/endpoint.js';

export type FormFields = Record<string, string>;

/** Field errors by form field name (the input's paths mapped back to the fields that hold them). */
export type FormErrors = Record<string, string>;

const list = (v: string | undefined, separators = /[\n,]/) =>
  (v ?? '')
    .split(separators)
    .map((s) => s.trim())
    .filter(Boolean);

/** A retry schedule with no delays: one attempt, no retries (blank means the default schedule). */
export const NO_RETRIES = 'none';

const FIELD_OF_PATH: Record<string, string> = { retry: 'retry_schedule', rate_limit: 'rate_limit_per_second' };

/** Where an input error belongs on the form: `to.0` → `to`, `retry.schedule_s.2` → `retry_schedule`. */
export function fieldOf(path: string): string {
  const head = path.split('.')[0] ?? '';
  return FIELD_OF_PATH[head] ?? head;
}

class FieldError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

function number(f: FormFields, name: string): number | null {
  const v = f[name]?.trim();
  if (!v) return null;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new FieldError(name, 'must be a number');
  return n;
}

function jsonObject(f: FormFields, name: string): Record<string, unknown> | null {
  const v = f[name]?.trim();
  if (!v) return null;
  try {
    const parsed = JSON.parse(v) as unknown;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new FieldError(name, 'must be a JSON object');
}

/**
 * The input for this channel from the form. On create every field goes in; on edit (`patch`) blank
 * optional fields clear the setting, except sealed ones (headers, SMTP URL), which a blank field keeps.
 */
export function endpointInputFromForm(channel: Channel, f: FormFields, patch: boolean): { input: Record<string, unknown>; errors: FormErrors } {
  try {
    const input: Record<string, unknown> = patch ? {} : { channel };
    const optional = (key: string, value: unknown) => {
      if (value !== null || patch) input[key] = value;
    };
    input.events = list(f.events);
    // One per line: a user id may hold a comma.
    const users = list(f.users, /\n/);
    optional('users', users.length > 0 ? users : null);
    optional('subject', f.subject?.trim() || null);
    optional('description', f.description?.trim() || null);
    optional('timeout_ms', number(f, 'timeout_ms'));
    const noRetries = f.retry_schedule?.trim().toLowerCase() === NO_RETRIES;
    const schedule = noRetries ? [] : list(f.retry_schedule).map((s) => Number(s));
    if (schedule.some((n) => !Number.isFinite(n))) throw new FieldError('retry_schedule', `must be seconds, e.g. 5, 30, 120, or "${NO_RETRIES}"`);
    optional('retry', noRetries || schedule.length > 0 ? { schedule_s: schedule } : null);
    const perSecond = number(f, 'rate_limit_per_second');
    optional('rate_limit', perSecond === null ? null : { per_second: perSecond });
    optional('template', jsonObject(f, 'template'));
    if (!patch) input.enabled = f.enabled === 'on';
    if (channel === 'email') {
      input.to = list(f.to);
      optional('from', f.from?.trim() || null);
      if (f.smtp_url?.trim()) input.smtp_url = f.smtp_url.trim();
      else if (!patch) input.smtp_url = null;
    } else {
      input.url = f.url?.trim() ?? '';
    }
    if (channel === 'webhook') {
      const headers = jsonObject(f, 'headers');
      if (headers) input.headers = headers;
    }
    return { input, errors: {} };
  } catch (err) {
    if (err instanceof FieldError) return { input: {}, errors: { [err.field]: err.message } };
    throw err;
  }
}

/** The form's input checked by the API's schema: its data, or the messages by form field. */
export function checkForm<S extends z.ZodType>(schema: S, built: { input: Record<string, unknown>; errors: FormErrors }): { data: z.output<S> } | { errors: FormErrors } {
  if (Object.keys(built.errors).length > 0) return { errors: built.errors };
  const parsed = schema.safeParse(built.input);
  if (parsed.success) return { data: parsed.data };
  const errors: FormErrors = {};
  for (const i of parsed.error.issues) errors[fieldOf(i.path.map(String).join('.'))] ??= i.message;
  return { errors };
}
