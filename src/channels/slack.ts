// Slack incoming webhooks: POST { "text": … } rendered from the endpoint's text template or the
// default, with values escaped so an event cannot add links or @channel mentions.
import { type ChannelSender, type SendRequest, type SendResult, failure } from './channel.js';
import type { HttpPoster } from './http-client.js';
import { renderFailure, renderPartInTurn } from './render-turns.js';
import { RENDER_LIMIT_MS, TemplateError, truncateText } from './templates.js';

/** Slack truncates messages beyond this many characters itself; herald cuts first, visibly. */
export const SLACK_MAX_TEXT = 40_000;

export async function slackPayload(req: SendRequest, renderLimitMs = RENDER_LIMIT_MS): Promise<{ text: string }> {
  return { text: truncateText((await renderPartInTurn(req, 'text', undefined, renderLimitMs)) ?? '', SLACK_MAX_TEXT) };
}

export function createSlackSender(http: HttpPoster, renderLimitMs = RENDER_LIMIT_MS): ChannelSender {
  return {
    async send(req: SendRequest): Promise<SendResult> {
      if (!req.url) return failure('network_error', 'the endpoint has no URL', { permanent: true });
      let payload: { text: string };
      try {
        payload = await slackPayload(req, renderLimitMs);
      } catch (err) {
        if (err instanceof TemplateError) return renderFailure(err);
        throw err;
      }
      if (payload.text.trim() === '') return failure('network_error', 'the text template rendered an empty message', { permanent: true });
      // Slack answers 429 with a Retry-After header, which the HTTP client already reads.
      return http.post({ url: req.url, headers: {}, body: JSON.stringify(payload), timeoutMs: req.timeoutMs, signal: req.signal });
    },
  };
}
