// Structured JSON logs (pino). Secrets are redacted by path as a second line of defence; the first
// is never to log them at all.
import { type DestinationStream, pino, type Logger } from 'pino';

export type { Logger };

/** Writes to stdout unless given another destination (tests read the lines). */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'herald' },
    redact: { paths: ['key', 'secret', 'authorization', '*.authorization', '*.Authorization', 'headers.*', 'smtp_url'], censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination ? pino(options, destination) : pino(options);
}
