// Endpoint configuration per channel, as posted and as recorded. Each channel has a strict shape:
// a field that does not belong to the channel is refused.
import addressparser from 'nodemailer/lib/addressparser/index.js';
import { z } from 'zod';
import { eventFilterSchema } from './event.js';
import type { RetryPolicy } from './retry-policy.js';

export const CHANNELS = ['webhook', 'email', 'slack', 'discord'] as const;
export type Channel = (typeof CHANNELS)[number];

const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;
const RESERVED_HEADERS = new Set([
  'host', 'content-length', 'content-type', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'te', 'trailer',
]);

const httpUrl = z
  .string()
  .max(2048)
  .refine((u) => {
    try {
      const p = new URL(u).protocol;
      return p === 'https:' || p === 'http:';
    } catch {
      return false;
    }
  }, 'must be an absolute http:// or https:// URL');

const smtpUrl = z
  .string()
  .max(2048)
  .refine((u) => {
    try {
      const p = new URL(u).protocol;
      return p === 'smtp:' || p === 'smtps:';
    } catch {
      return false;
    }
  }, 'must be an smtp:// or smtps:// URL');

export const headersSchema = z
  .record(
    z.string().max(256).regex(HEADER_NAME, 'not a valid header name')
      .refine((n) => !RESERVED_HEADERS.has(n.toLowerCase()) && !n.toLowerCase().startsWith('webhook-'),
        'this header is set by herald and cannot be overridden'),
    z.string().max(8192).refine((v) => !/[\r\n\0]/.test(v), 'header values may not contain CR, LF or NUL'),
  )
  .refine((h) => Object.keys(h).length <= 32, 'at most 32 custom headers');

export const retryPolicySchema = z
  .union([
    z.object({ schedule_s: z.array(z.number().min(0).max(7 * 86_400)).max(50) }).strict(),
    z.object({
      max_attempts: z.number().int().min(1).max(50),
      base_s: z.number().min(0).max(86_400),
      max_s: z.number().min(0).max(7 * 86_400),
    }).strict(),
  ])
  .meta({ id: 'RetryPolicy', description: 'Either explicit delays after each failed attempt, or exponential backoff with jitter.' });

export const rateLimitSchema = z
  .object({ per_second: z.number().positive().max(10_000) })
  .strict()
  .meta({ id: 'RateLimit', description: 'At most this many attempts per second to the endpoint (Slack and Discord answer 429 to bursts).' });

export const digestSchema = z
  .object({ cron: z.string().min(1).max(128) })
  .strict()
  .meta({ id: 'Digest', description: 'Collect matching events and send one message per cron period.' });

const templateText = z.string().max(65_536);

/** One mailbox (`name <addr@host>` or `addr@host`): no line breaks, no second address, no group. */
export const mailboxSchema = z
  .string()
  .min(3)
  .max(320)
  .refine((v) => {
    if (/[\r\n\0]/.test(v)) return false;
    const parsed = addressparser(v);
    return parsed.length === 1 && !('group' in parsed[0]!) && z.email().safeParse(parsed[0]!.address).success;
  }, 'must be one mailbox, e.g. "jobs <noreply@example.com>"');

const common = {
  events: z.array(eventFilterSchema).min(1).max(100),
  users: z.array(z.string().min(1).max(256)).max(1000).nullish(),
  subject: z.string().min(1).max(256).nullish(),
  timeout_ms: z.number().int().min(100).max(120_000).nullish(),
  retry: retryPolicySchema.nullish(),
  rate_limit: rateLimitSchema.nullish(),
  description: z.string().max(1000).nullish(),
  enabled: z.boolean().optional(),
};

export const webhookEndpointSchema = z.object({
  channel: z.literal('webhook'),
  url: httpUrl,
  headers: headersSchema.nullish(),
  secret: z.string().optional(),
  template: z.object({ body: templateText.optional() }).strict().nullish(),
  ...common,
}).strict();

export const emailEndpointSchema = z.object({
  channel: z.literal('email'),
  to: z.array(z.email()).min(1).max(100),
  from: mailboxSchema.nullish(),
  smtp_url: smtpUrl.nullish(),
  template: z.object({ subject: templateText.optional(), text: templateText.optional(), html: templateText.optional() }).strict().nullish(),
  digest: digestSchema.nullish(),
  ...common,
}).strict();

const chatEndpoint = <C extends 'slack' | 'discord'>(channel: C) =>
  z.object({
    channel: z.literal(channel),
    url: httpUrl,
    template: z.object({ text: templateText.optional() }).strict().nullish(),
    digest: digestSchema.nullish(),
    ...common,
  }).strict();

export const slackEndpointSchema = chatEndpoint('slack');
export const discordEndpointSchema = chatEndpoint('discord');

export const endpointInputSchema = z
  .discriminatedUnion('channel', [webhookEndpointSchema, emailEndpointSchema, slackEndpointSchema, discordEndpointSchema])
  .meta({ id: 'EndpointInput' });
export type EndpointInput = z.output<typeof endpointInputSchema>;

export const CHANNEL_SCHEMAS = {
  webhook: webhookEndpointSchema,
  email: emailEndpointSchema,
  slack: slackEndpointSchema,
  discord: discordEndpointSchema,
} as const;

/** A patch: any field of the endpoint's channel except `channel` and `secret` (use rotate-secret). */
export const PATCH_SCHEMAS = {
  webhook: webhookEndpointSchema.omit({ channel: true, secret: true }).partial().strict(),
  email: emailEndpointSchema.omit({ channel: true }).partial().strict(),
  slack: slackEndpointSchema.omit({ channel: true }).partial().strict(),
  discord: discordEndpointSchema.omit({ channel: true }).partial().strict(),
} as const;

export interface Template {
  subject?: string | undefined;
  text?: string | undefined;
  html?: string | undefined;
  body?: string | undefined;
}

/**
 * An endpoint as recorded in the ledger. Secret material is sealed (see secret-box.ts): the ledger
 * never holds a signing secret, a custom header value or an SMTP password in plain text.
 */
export interface EndpointRecord {
  id: string;
  channel: Channel;
  url: string | null;
  to: string[] | null;
  from: string | null;
  events: string[];
  users: string[] | null;
  subject: string | null;
  header_names: string[];
  headers_sealed: string | null;
  smtp_url_sealed: string | null;
  timeout_ms: number;
  retry: RetryPolicy | null;
  template: Template | null;
  digest: { cron: string } | null;
  /** Absent in records written before rate limits existed. */
  rate_limit?: { per_second: number } | null;
  description: string | null;
  enabled: boolean;
}

export const DEFAULT_TIMEOUT_MS = 10_000;
