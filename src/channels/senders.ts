// The sender for each channel, built once from the config and the shared HTTP client.
import type { Config } from '../config.js';
import { createDiscordSender } from './discord.js';
import { createEmailSender } from './email.js';
import type { Senders } from './channel.js';
import type { HttpPoster } from './http-client.js';
import { createSlackSender } from './slack.js';
import { renderPartInTurn } from './render-turns.js';
import { createWebhookSender } from './webhook.js';

export function createSenders(config: Config, http: HttpPoster, userAgent: string): Senders {
  const limitMs = config.HERALD_RENDER_LIMIT_MS;
  return {
    webhook: createWebhookSender(http, (req) => renderPartInTurn(req, 'body', undefined, limitMs)),
    email: createEmailSender({
      allowPrivateNetworks: config.HERALD_ALLOW_PRIVATE_NETWORKS, defaultSmtpUrl: config.HERALD_SMTP_URL ?? null, defaultFrom: config.HERALD_SMTP_FROM, userAgent, renderLimitMs: limitMs,
    }),
    slack: createSlackSender(http, limitMs),
    discord: createDiscordSender(http, limitMs),
  };
}
