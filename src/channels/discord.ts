// Discord webhooks: POST { "content": … } (at most 2,000 characters) rendered from the endpoint's
// text template or the default; a 429's JSON `retry_after` (seconds) is passed on to the retry policy.
import { type ChannelSender, type SendRequest, type SendResult, failure } from './channel.js';
import type { HttpPoster } from './http-client.js';
import { renderFailure, renderPartInTurn } from './render-turns.js';
import { RENDER_LIMIT_MS, TemplateError, truncateText } from './templates.js';

/** Discord refuses messages longer than this. */
export const DISCORD_MAX_CONTENT = 2000;

export async function discordPayload(req: SendRequest, renderLimitMs = RENDER_LIMIT_MS): Promise<{ content: string }> {
  return { content: truncateText((await renderPartInTurn(req, 'text', undefined, renderLimitMs)) ?? '', DISCORD_MAX_CONTENT) };
}

/** Discord's 429 body: `{ "retry_after": 1.5, "global": false, … }`, in seconds (may be fractional). */
export function discordRetryAfter(body: string | null): number | null {
  if (!body) return null;
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed !== 'object' || parsed === null || !('retry_after' in parsed)) return null;
    const value = parsed.retry_after;
    return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : null;
  } catch {
    return null;
  }
}

export function createDiscordSender(http: HttpPoster, renderLimitMs = RENDER_LIMIT_MS): ChannelSender {
  return {
    async send(req: SendRequest): Promise<SendResult> {
      if (!req.url) return failure('network_error', 'the endpoint has no URL', { permanent: true });
      let payload: { content: string };
      try {
        payload = await discordPayload(req, renderLimitMs);
      } catch (err) {
        if (err instanceof TemplateError) return renderFailure(err);
        throw err;
      }
      if (payload.content.trim() === '') return failure('network_error', 'the text template rendered an empty message', { permanent: true });
      const result = await http.post({ url: req.url, headers: {}, body: JSON.stringify(payload), timeoutMs: req.timeoutMs, signal: req.signal });
      if (result.status_code === 429) {
        // The body's value is more precise than the Retry-After header (whole seconds); the header stays the fallback.
        const retryAfter = discordRetryAfter(result.response_body);
        if (retryAfter !== null) return { ...result, retry_after_s: retryAfter };
      }
      return result;
    },
  };
}
