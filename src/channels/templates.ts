// Message templates for the human channels (email, Slack, Discord) and webhook bodies: Liquid
// (liquidjs), which operators may write safely — no code execution, no file access, bounded work.
import { Cron } from 'croner';
import { Liquid, type Template as ParsedTemplate, toValue } from 'liquidjs';
import type { Channel, Template } from '../domain/endpoint.js';
import type { EventRecord } from '../domain/event.js';
import { DEFAULT_TEMPLATES, type TemplatePart } from './default-templates.js';
import type { SendRequest } from './channel.js';

/**
 * Render time of one template for one event (ms), unless HERALD_RENDER_LIMIT_MS says otherwise: a
 * hostile loop is cut off here. Renders run on the main loop, one per turn of it (render-turns.ts).
 */
export const RENDER_LIMIT_MS = 20;
/** Render time added per event a digest carries (ms): a 1,000-event default digest takes 20–50 ms. */
export const DIGEST_EVENT_RENDER_MS = 0.2;
/** liquidjs' allocation budget (roughly characters and array items created while rendering). */
export const MEMORY_LIMIT = 32_000_000;
/** Longest template source parsed (the endpoint schema allows 64 KiB per template). */
export const PARSE_LIMIT = 256 * 1024;
/** Longest rendered output accepted. */
export const OUTPUT_LIMIT = 1024 * 1024;

export type EventStatus = 'success' | 'failure' | 'other';
export type { TemplatePart };

/** One event as templates see it (`event`, and each item of `digest.events`). */
export interface TemplateEvent {
  id: string;
  type: string;
  source: string | null;
  subject: string | null;
  user: string | null;
  occurred_at: string | null;
  received_at: string;
  /** occurred_at when the sender gave one, received_at otherwise. */
  time: string;
  status: EventStatus;
  link: string | null;
  data: Record<string, unknown>;
}

export interface TemplateContext {
  event: TemplateEvent;
  data: Record<string, unknown>;
  delivery: { id: string; attempt: number; channel: Channel };
  status: EventStatus;
  link: string | null;
  digest: { events: TemplateEvent[]; count: number; counts: Record<EventStatus, number> } | null;
}

/** How interpolated values are escaped: templates' literal text is never touched. */
export type Markup = 'text' | 'html' | 'slack' | 'discord' | 'json';

export class TemplateError extends Error {
  override name = 'TemplateError';
  constructor(
    message: string,
    /** It ran out of time: a busy machine may have slowed it, so another attempt may succeed. */
    readonly overTime = false,
  ) {
    super(message);
  }
}

export interface FieldError {
  path: string;
  message: string;
}

const SUCCESS = /(?:^|[._:-])(?:completed|succeeded|success|finished|ok|done|passed)$/i;
const FAILURE = /(?:^|[._:-])(?:failed|failure|error|errored|timeout|timed_out|cancelled|canceled|aborted|exhausted|disabled)$/i;

/** success / failure / other, from the last word of the event type (job.completed, job_timeout…). */
export function eventStatus(type: string): EventStatus {
  if (SUCCESS.test(type)) return 'success';
  if (FAILURE.test(type)) return 'failure';
  return 'other';
}

/** The first of data.url, data.link, data.instance_url that is an absolute http(s) URL. */
export function eventLink(data: Record<string, unknown>): string | null {
  for (const key of ['url', 'link', 'instance_url']) {
    const v = Object.hasOwn(data, key) ? data[key] : undefined;
    if (typeof v !== 'string' || !/^https?:\/\//i.test(v)) continue;
    try {
      new URL(v);
      return v;
    } catch {
      // not a URL after all: try the next key
    }
  }
  return null;
}

function templateEvent(e: EventRecord): TemplateEvent {
  return {
    id: e.id,
    type: e.type,
    source: e.source,
    subject: e.subject,
    user: e.user,
    occurred_at: e.occurred_at,
    received_at: e.received_at,
    time: e.occurred_at ?? e.received_at,
    status: eventStatus(e.type),
    link: eventLink(e.data),
    data: e.data,
  };
}

export function templateContext(req: Pick<SendRequest, 'event' | 'digestEvents' | 'deliveryId' | 'attempt' | 'channel'>): TemplateContext {
  const event = templateEvent(req.event);
  let digest: TemplateContext['digest'] = null;
  if (req.digestEvents) {
    const events = req.digestEvents.map(templateEvent);
    const counts: Record<EventStatus, number> = { success: 0, failure: 0, other: 0 };
    for (const e of events) counts[e.status]++;
    digest = { events, count: events.length, counts };
  }
  return {
    event,
    data: req.event.data,
    delivery: { id: req.deliveryId, attempt: req.attempt, channel: req.channel },
    status: event.status,
    link: event.link,
    digest,
  };
}

// Plain objects and arrays print as JSON rather than "[object Object]"; everything else as Liquid does.
function show(value: unknown): string {
  const v: unknown = toValue(value);
  if (v == null) return '';
  if (typeof v === 'string') return v;
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'object') return JSON.stringify(v) ?? '';
  return String(v);
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;' };
const ESCAPES: Record<Markup, (value: unknown) => string> = {
  text: show,
  html: (v) => show(v).replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c),
  // Slack reads <…> as links and mentions (<!channel>): a value must not be able to make one.
  slack: (v) => show(v).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'),
  // Discord pings on @everyone, @here and <@id> / <@&role>: a zero-width space after the @ keeps values from pinging.
  discord: (v) => show(v).replace(/@(everyone|here)|<@/g, (m) => (m === '<@' ? '<@\u200b' : `@\u200b${m.slice(1)}`)),
  json: (v) => {
    const x: unknown = toValue(v);
    return x === undefined ? 'null' : (JSON.stringify(x) ?? 'null');
  },
};

function createEngine(markup: Markup): Liquid {
  const engine = new Liquid({
    templates: {}, // no file system: include/render/layout could otherwise read files
    relativeReference: false,
    strictFilters: true,
    ownPropertyOnly: true,
    timezoneOffset: 0,
    outputEscape: ESCAPES[markup],
    parseLimit: PARSE_LIMIT,
    renderLimit: RENDER_LIMIT_MS,
    memoryLimit: MEMORY_LIMIT,
  });
  for (const tag of ['include', 'render', 'layout']) {
    engine.registerTag(tag, {
      parse() {
        throw new Error(`the ${tag} tag is not available in herald templates`);
      },
      render() {
        return '';
      },
    });
  }
  return engine;
}

const engines = new Map<Markup, Liquid>();
const parsedCache = new Map<string, ParsedTemplate[]>();
const PARSED_CACHE_SIZE = 500;

function engineFor(markup: Markup): Liquid {
  let engine = engines.get(markup);
  if (!engine) engines.set(markup, (engine = createEngine(markup)));
  return engine;
}

function firstLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n')[0] ?? message;
}

/** Parses (cached, most recently used kept) or throws TemplateError. */
function parse(source: string, markup: Markup): ParsedTemplate[] {
  const key = `${markup}\0${source}`;
  const hit = parsedCache.get(key);
  if (hit) {
    parsedCache.delete(key);
    parsedCache.set(key, hit);
    return hit;
  }
  let parsed: ParsedTemplate[];
  try {
    parsed = engineFor(markup).parse(source);
  } catch (err) {
    throw new TemplateError(firstLine(err));
  }
  parsedCache.set(key, parsed);
  if (parsedCache.size > PARSED_CACHE_SIZE) parsedCache.delete(parsedCache.keys().next().value!);
  return parsed;
}

/** liquidjs' message when a render runs past its renderLimit. */
const OVER_TIME = /template render limit exceeded/;

/**
 * Renders synchronously with values escaped for `markup`, within `limitMs`; throws TemplateError. A
 * render over time gets one more try: the first render of a template (its code not yet optimised) or
 * a pause of the process can run over once. So a render stalls the event loop for 2 × `limitMs` at most.
 */
export function renderTemplate(source: string, ctx: TemplateContext, markup: Markup, limitMs = RENDER_LIMIT_MS): string {
  const parsed = parse(source, markup);
  const render = () => String(engineFor(markup).renderSync(parsed, ctx, { renderLimit: limitMs }));
  let out: string;
  try {
    try {
      out = render();
    } catch (err) {
      if (!OVER_TIME.test(firstLine(err))) throw err;
      out = render();
    }
  } catch (err) {
    const message = firstLine(err);
    if (OVER_TIME.test(message)) {
      throw new TemplateError(`render limit exceeded: rendering took longer than ${+limitMs.toFixed(1)} ms, twice (HERALD_RENDER_LIMIT_MS)`, true);
    }
    throw new TemplateError(message);
  }
  if (out.length > OUTPUT_LIMIT) throw new TemplateError(`rendered output is longer than ${OUTPUT_LIMIT} characters`);
  return out;
}

/** Plain text: values are inserted as they are. */
export function renderText(source: string, ctx: TemplateContext): string {
  return renderTemplate(source, ctx, 'text');
}

/** HTML: every value is HTML-escaped unless the template says `| raw`. */
export function renderHtml(source: string, ctx: TemplateContext): string {
  return renderTemplate(source, ctx, 'html');
}

/** Which escaping a channel's template part gets. */
export function markupFor(channel: Channel, part: TemplatePart): Markup {
  if (part === 'html') return 'html';
  if (part === 'body') return 'json';
  if (part === 'text' && (channel === 'slack' || channel === 'discord')) return channel;
  return 'text';
}

/** The endpoint's template for `part`, or herald's default (digest or single-event); null if none. */
export function templateSource(channel: Channel, part: TemplatePart, template: Template | null, digest: boolean): string | null {
  const own = template?.[part];
  if (own !== undefined) return own;
  const defaults = DEFAULT_TEMPLATES[channel];
  return (digest ? defaults.digest[part] : defaults.single[part]) ?? null;
}

/** The render time one part of a request may take: `limitMs`, and more for each event of a digest. */
export function renderBudgetMs(req: Pick<SendRequest, 'digestEvents'>, limitMs = RENDER_LIMIT_MS): number {
  return limitMs + (req.digestEvents?.length ?? 0) * DIGEST_EVENT_RENDER_MS;
}

/**
 * Renders one part of the message a request asks for, from the endpoint's template or the default,
 * within its budget. Returns null when there is no such part; throws TemplateError naming the
 * template (`template.text: …`).
 */
export function renderPart(req: SendRequest, part: TemplatePart, ctx: TemplateContext = templateContext(req), limitMs = RENDER_LIMIT_MS): string | null {
  const digest = req.digestEvents !== undefined;
  const source = templateSource(req.channel, part, req.template, digest);
  if (source === null) return null;
  try {
    return renderTemplate(source, ctx, markupFor(req.channel, part), renderBudgetMs(req, limitMs));
  } catch (err) {
    const which = req.template?.[part] !== undefined ? `template.${part}` : `default ${req.channel} ${digest ? 'digest ' : ''}${part} template`;
    throw new TemplateError(`${which}: ${(err as Error).message}`, err instanceof TemplateError && err.overTime);
  }
}

/** Cuts `text` to at most `max` UTF-16 units (never inside a surrogate pair), ending with "…" when cut. */
export function truncateText(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--;
  return `${text.slice(0, end)}…`;
}

const SAMPLE_EVENTS: EventRecord[] = [
  {
    id: 'evt_sample0', type: 'job.completed', source: 'scheduler', subject: 'job-41', user: 'alice',
    occurred_at: '2026-01-01T11:58:00.000Z', received_at: '2026-01-01T11:58:01.000Z',
    data: { exit_code: 0, url: 'https://example.com/jobs/41' }, notify: null,
  },
  {
    id: 'evt_sample1', type: 'job.failed', source: 'scheduler', subject: 'job-42', user: 'alice',
    occurred_at: '2026-01-01T12:00:00.000Z', received_at: '2026-01-01T12:00:01.000Z',
    data: { exit_code: 1, error: 'out of memory', url: 'https://example.com/jobs/42' }, notify: null,
  },
];

/** A context with sample values, used to try templates when an endpoint is created or changed. */
export function sampleContext(channel: Channel): TemplateContext {
  return templateContext({ event: SAMPLE_EVENTS[1]!, digestEvents: SAMPLE_EVENTS, deliveryId: 'msg_sample', attempt: 1, channel });
}

/** Null when `expr` is a valid digest schedule (5 or 6 cron fields, or a nickname such as @daily). */
export function cronProblem(expr: string): string | null {
  try {
    const job = new Cron(expr.trim(), { paused: true, mode: '5-or-6-parts' });
    const next = job.nextRun();
    job.stop();
    return next ? null : 'this schedule never fires';
  } catch (err) {
    return firstLine(err).replace(/^CronPattern: /, '');
  }
}

/**
 * Field errors for every template present in an endpoint input or patch (parse errors, unknown
 * filters, work beyond the limits on a sample event) and for `digest.cron`. Empty when all is well.
 */
export function validateTemplates(
  channel: Channel,
  input: { template?: Template | null | undefined; digest?: { cron: string } | null | undefined },
  limitMs = RENDER_LIMIT_MS,
): FieldError[] {
  const errors: FieldError[] = [];
  const ctx = sampleContext(channel);
  for (const part of ['subject', 'text', 'html', 'body'] as const) {
    const source = input.template?.[part];
    if (typeof source !== 'string') continue;
    try {
      const markup = markupFor(channel, part);
      parse(source, markup);
      try {
        renderTemplate(source, ctx, markup, limitMs);
      } catch (err) {
        // Only the limits are refused here: other render errors may depend on the real event's data.
        if (/limit exceeded|longer than/.test((err as Error).message)) throw err;
      }
    } catch (err) {
      errors.push({ path: `template.${part}`, message: (err as Error).message });
    }
  }
  const cron = input.digest?.cron;
  if (typeof cron === 'string') {
    const problem = cronProblem(cron);
    if (problem) errors.push({ path: 'digest.cron', message: problem });
  }
  return errors;
}
