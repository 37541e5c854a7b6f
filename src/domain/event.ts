// The event as integrators post it, and as herald records it.
import { z } from 'zod';
import { jsonValueProblem } from './json-limits.js';

export const EVENT_TYPE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]*$/;
/** Types herald emits itself; integrators may subscribe to them but not post them. */
export const HERALD_EVENT_TYPES = ['herald.started', 'herald.test', 'delivery.exhausted', 'endpoint.disabled'] as const;

export const eventTypeSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(EVENT_TYPE_PATTERN, 'a type is letters, digits and . _ : - (e.g. job.completed, job_failed)');

/** An endpoint's type filter: `*`, an exact type, or a prefix ending in `.*` or `_*`. */
export const eventFilterSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^(\*|[A-Za-z0-9][A-Za-z0-9_.:-]*([._]\*)?)$/, 'a filter is *, an exact type, or a prefix such as job.* or job_*');

const text = (max: number) => z.string().min(1).max(max);

export const notifySchema = z
  .object({
    email: z.array(z.email()).min(1).max(50),
    on: z.array(eventFilterSchema).min(1).max(100).optional(),
  })
  .strict()
  .meta({ id: 'Notify', description: 'Ad-hoc recipients for this event, sent through the default SMTP transport.' });

const eventFields = z.object({
  type: eventTypeSchema.refine(
    (t) => !t.startsWith('herald.') && !(HERALD_EVENT_TYPES as readonly string[]).includes(t),
    'this type is reserved for events herald emits itself',
  ),
  source: text(256).nullish(),
  subject: text(256).nullish(),
  user: text(256).nullish(),
  occurred_at: z.iso.datetime({ offset: true }).nullish(),
  data: z.record(z.string(), z.unknown()).optional(),
  notify: notifySchema.nullish(),
});

const saneJson = (event: unknown, ctx: z.RefinementCtx) => {
  const problem = jsonValueProblem(event);
  if (problem) ctx.addIssue({ code: 'custom', message: problem, path: ['data'] });
};

export const postedEventSchema = eventFields.strict().superRefine(saneJson).meta({ id: 'EventInput' });

export const batchItemSchema = eventFields
  .extend({ idempotency_key: z.string().min(1).max(255) })
  .strict()
  .meta({ id: 'BatchEventInput' });

export const batchRequestSchema = z
  .object({ events: z.array(z.record(z.string(), z.unknown())).min(1).max(1000) })
  .strict()
  .meta({ id: 'BatchInput', description: 'Up to 1,000 events, each shaped like BatchEventInput.' });

export type PostedEvent = z.output<typeof postedEventSchema>;

/** An event as recorded in the ledger and returned by the API. */
export interface EventRecord {
  id: string;
  type: string;
  source: string | null;
  subject: string | null;
  user: string | null;
  occurred_at: string | null;
  received_at: string;
  data: Record<string, unknown>;
  notify: { email: string[]; on?: string[] | undefined } | null;
}

/** A posted event as the fields herald records (the id and received_at are herald's to add). */
export function postedEventFields(posted: PostedEvent): Omit<EventRecord, 'id' | 'received_at'> {
  return {
    type: posted.type,
    source: posted.source ?? null,
    subject: posted.subject ?? null,
    user: posted.user ?? null,
    occurred_at: posted.occurred_at ? new Date(posted.occurred_at).toISOString() : null,
    data: posted.data ?? {},
    notify: posted.notify ?? null,
  };
}

export interface IngestAnswer {
  id: string;
  type: string;
  received_at: string;
  deliveries: Array<{ id: string; endpoint_id: string | null; channel: string; status: 'pending' }>;
}

/** The 202 answer to an ingest, derived from the recorded event so a replay returns it byte for byte. */
export function ingestAnswer(
  event: Pick<EventRecord, 'id' | 'type' | 'received_at'>,
  deliveries: ReadonlyArray<{ id: string; endpoint_id: string | null; channel: string }>,
): IngestAnswer {
  return {
    id: event.id,
    type: event.type,
    received_at: event.received_at,
    deliveries: deliveries.map((d) => ({ id: d.id, endpoint_id: d.endpoint_id, channel: d.channel, status: 'pending' })),
  };
}
