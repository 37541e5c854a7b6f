// Webhooks: POST the event as JSON (or the endpoint's body template), signed per Standard Webhooks
// (webhook-id = the delivery id on every try, a fresh webhook-timestamp, one v1 signature per active secret).
import { signatureHeader } from '../domain/signature.js';
import type { ChannelSender, SendRequest, SendResult } from './channel.js';
import { failure } from './channel.js';
import type { HttpPoster } from './http-client.js';
import { renderFailure } from './render-turns.js';
import { TemplateError } from './templates.js';

/** The default body: `{ id, type, timestamp, data }` (plus subject/user/source when the event has them). */
export function defaultWebhookBody(req: SendRequest): string {
  const e = req.event;
  return JSON.stringify({
    id: e.id,
    type: e.type,
    timestamp: e.occurred_at ?? e.received_at,
    ...(e.subject != null ? { subject: e.subject } : {}),
    ...(e.user != null ? { user: e.user } : {}),
    ...(e.source != null ? { source: e.source } : {}),
    data: e.data,
  });
}

export function createWebhookSender(http: HttpPoster, renderBody: (req: SendRequest) => Promise<string | null>): ChannelSender {
  return {
    async send(req: SendRequest): Promise<SendResult> {
      if (!req.url) return failure('network_error', 'the endpoint has no URL', { permanent: true });
      let body: string;
      if (req.template?.body) {
        try {
          body = (await renderBody(req)) ?? defaultWebhookBody(req);
        } catch (err) {
          if (err instanceof TemplateError) return renderFailure(err);
          return failure('network_error', (err as Error).message, { permanent: true });
        }
        try {
          JSON.parse(body);
        } catch {
          return failure('network_error', 'the body template did not render valid JSON', { permanent: true });
        }
      } else {
        body = defaultWebhookBody(req);
      }
      const timestamp = Math.floor(req.now().getTime() / 1000);
      const headers: Record<string, string> = {
        ...req.headers,
        'webhook-id': req.deliveryId,
        'webhook-timestamp': String(timestamp),
      };
      if (req.signingSecrets.length > 0) headers['webhook-signature'] = signatureHeader(req.signingSecrets, req.deliveryId, timestamp, body);
      return http.post({ url: req.url, headers, body, timeoutMs: req.timeoutMs, signal: req.signal, redactHeaders: Object.keys(req.headers) });
    },
  };
}
