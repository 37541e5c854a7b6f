// Structured JSON logs (pino). Secrets are redacted by path as a second line of defence; the first
// is never to log them at all.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'herald' },
    redact: { paths: ['key', 'secret', 'authorization', '*.authorization', '*.Authorization', 'headers.*', 'smtp_url'], censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
