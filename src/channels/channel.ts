// What every channel implements: send one message for one delivery attempt and report the outcome
// as a value (never throw for a failed delivery; only bugs throw).
import type { Channel, Template } from '../domain/endpoint.js';
import type { EventRecord } from '../domain/event.js';
import type { Outcome } from '../domain/retry-policy.js';

export interface SendRequest {
  /** The delivery id (msg_…): the webhook-id, and the seed of the email Message-ID. */
  deliveryId: string;
  /** 1-based attempt number of this delivery. */
  attempt: number;
  channel: Channel;
  event: EventRecord;
  /** For a digest: every event the message covers (event is then the newest of them). */
  digestEvents?: EventRecord[] | undefined;
  /** Destination URL (webhook, slack, discord). */
  url: string | null;
  /** Email recipients (the endpoint's `to`, or an event's notify.email). */
  to: string[] | null;
  /** Email sender override; the default transport's sender otherwise. */
  from: string | null;
  template: Template | null;
  /** Opened secrets: signing secrets (current first), custom header values, SMTP URL. */
  signingSecrets: string[];
  headers: Record<string, string>;
  smtpUrl: string | null;
  timeoutMs: number;
  signal: AbortSignal;
  now: () => Date;
}

export interface SendResult {
  outcome: Outcome;
  /** HTTP status, or SMTP reply code. */
  status_code: number | null;
  error: string | null;
  /** What was sent, with custom header values and credentials redacted. */
  request_headers: Record<string, string> | null;
  response_headers: Record<string, string> | null;
  /** The first 4 KiB of the response body (or the SMTP reply text). */
  response_body: string | null;
  remote_address: string | null;
  /** Seconds the receiver asked us to wait (Retry-After, Discord's retry_after). */
  retry_after_s?: number | null | undefined;
  /** True when retrying cannot help (refused address, invalid configuration). */
  permanent?: boolean | undefined;
}

export interface ChannelSender {
  send(req: SendRequest): Promise<SendResult>;
  close?(): Promise<void>;
}

/** Kept in an attempt record: the first 4 KiB of what the receiver answered. */
export const RESPONSE_EXCERPT_BYTES = 4096;

export function failure(outcome: Outcome, error: string, extra: Partial<SendResult> = {}): SendResult {
  return {
    outcome,
    status_code: null,
    error,
    request_headers: null,
    response_headers: null,
    response_body: null,
    remote_address: null,
    ...extra,
  };
}

/** The sender of each channel. */
export type Senders = Record<Channel, ChannelSender>;
