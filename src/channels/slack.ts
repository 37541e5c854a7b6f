// Slack incoming webhooks: POST { "text": … } rendered from the endpoint's text template or the
// default, with values escaped so an event cannot add links or @channel mentions.
import { type ChannelSender, type SendRequest, type SendResult, failure } from './channel.js';
import type { HttpClient } from './http-client.js';
import { TemplateError, renderPart, truncateText } from './templates.js';

/** Slack truncates messages beyond this many characters itself; herald cuts first, visibly. */
export const SLACK_MAX_TEXT = 40_000;

export function slackPayload(req: SendRequest): { text: string } {
  return { text: truncateText(renderPart(req, 'text') ?? '', SLACK_MAX_TEXT) };
}

export function createSlackSender(http: HttpClient): ChannelSender {
  return {
    async send(req: SendRequest): Promise<SendResult> {
      if (!req.url) return failure('network_error', 'the endpoint has no URL', { permanent: true });
      let payload: { text: string };
      try {
        payload = slackPayload(req);
      } catch (err) {
        if (err instanceof TemplateError) return failure('network_error', err.message, { permanent: true });
        throw err;
      }
      if (payload.text.trim() === '') return failure('network_error', 'the text template rendered an empty message', { permanent: true });
      // Slack answers 429 with a Retry-After header, which the HTTP client already reads.
      return http.post({ url: req.url, headers: {}, body: JSON.stringify(payload), timeoutMs: req.timeoutMs, signal: req.signal });
    },
  };
}
