// All of herald's settings: one zod schema, read from the environment and an optional JSON file.
// Nothing else in herald reads process.env; the parsed Config is passed in as an argument.
import { readFileSync } from 'node:fs';
import { z } from 'zod';

const bool = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'])])
  .transform((v) => v === true || v === 'true' || v === '1' || v === 'yes');
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

export const configSchema = z
  .object({
    HERALD_DB: z.string().min(1).default('./data/herald.db'),
    HERALD_HOST: z.string().min(1).default('127.0.0.1'),
    HERALD_PORT: int(0, 65535).default(8080),
    HERALD_ADMIN_KEY: z.string().min(16, 'HERALD_ADMIN_KEY must be at least 16 characters').optional(),
    HERALD_ENCRYPTION_KEY: z
      .string()
      .refine((v) => Buffer.from(v, 'base64').length === 32, 'HERALD_ENCRYPTION_KEY must be 32 bytes, base64-encoded')
      .optional(),
    HERALD_ALLOW_PRIVATE_NETWORKS: bool.default(false),
    HERALD_SMTP_URL: z.string().url().optional(),
    HERALD_SMTP_FROM: z.string().min(3).default('herald <herald@localhost>'),
    HERALD_MAX_CONCURRENT_DELIVERIES: int(1, 10_000).default(64),
    HERALD_MAX_PER_ENDPOINT: int(1, 10_000).default(16),
    HERALD_MAX_BODY_BYTES: int(1024, 64 * 1024 * 1024).default(262_144),
    HERALD_MAX_BATCH_BYTES: int(1024, 256 * 1024 * 1024).default(8 * 1024 * 1024),
    HERALD_SYNCHRONOUS: z.enum(['FULL', 'NORMAL', 'EXTRA']).default('FULL'),
    HERALD_LEASE_MARGIN_MS: int(100, 3_600_000).default(5_000),
    HERALD_LOCK_WAIT_MS: int(0, 600_000).default(5_000),
    HERALD_SHUTDOWN_GRACE_MS: int(0, 600_000).default(10_000),
    HERALD_HEADERS_TIMEOUT_MS: int(100, 600_000).default(10_000),
    HERALD_REQUEST_TIMEOUT_MS: int(100, 3_600_000).default(30_000),
    HERALD_KEEP_ALIVE_TIMEOUT_MS: int(100, 600_000).default(5_000),
    HERALD_MAX_CONNECTIONS: int(1, 1_000_000).default(1024),
    HERALD_RENDER_LIMIT_MS: int(1, 10_000).default(20),
    HERALD_REQUEUE_CHUNK: int(1, 5_000).default(500),
    HERALD_ROTATION_GRACE_S: int(0, 30 * 86_400).default(86_400),
    HERALD_BREAKER_FAILING_S: int(60, 365 * 86_400).default(5 * 86_400),
    HERALD_BREAKER_CONSECUTIVE_DEAD: int(1, 1_000_000).default(50),
    HERALD_METRICS_TOKEN: z.string().min(16, 'HERALD_METRICS_TOKEN must be at least 16 characters').optional(),
    HERALD_MAINTENANCE_CRON: z.string().default('*/5 * * * * *'),
    HERALD_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .strip()
  // node refuses a header timeout longer than the request timeout, which covers the headers too.
  .refine((c) => c.HERALD_HEADERS_TIMEOUT_MS <= c.HERALD_REQUEST_TIMEOUT_MS, {
    path: ['HERALD_HEADERS_TIMEOUT_MS'],
    message: 'HERALD_HEADERS_TIMEOUT_MS must not be longer than HERALD_REQUEST_TIMEOUT_MS',
  });

export type Config = z.output<typeof configSchema>;

export class ConfigError extends Error {}

/** Reads settings from `HERALD_CONFIG` (a JSON file of the same names), then the environment on top. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Record<string, unknown> = {}): Config {
  let fromFile: Record<string, unknown> = {};
  const file = env.HERALD_CONFIG;
  if (file) {
    try {
      fromFile = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new ConfigError(`cannot read HERALD_CONFIG ${file}: ${(err as Error).message}`);
    }
  }
  const fromEnv = Object.fromEntries(Object.entries(env).filter(([k, v]) => k.startsWith('HERALD_') && v !== ''));
  const parsed = configSchema.safeParse({ ...fromFile, ...fromEnv, ...overrides });
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}
