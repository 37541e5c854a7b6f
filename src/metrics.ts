// Prometheus metrics (prom-client), in a registry of herald's own so tests can run several instances.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

type QueueStats = { waiting: number; delivering: number; oldest_due_at: string | null };

/** Queue gauges are read from the store at most once a second, however often /metrics is scraped. */
const QUEUE_STATS_MAX_AGE_MS = 1000;

export function createMetrics(readQueueStats: () => Promise<QueueStats>, clock: () => Date = () => new Date()) {
  let cached: { at: number; stats: Promise<QueueStats> } | null = null;
  const queueStats = () => {
    const now = clock().getTime();
    if (!cached || now - cached.at >= QUEUE_STATS_MAX_AGE_MS || now < cached.at) {
      const stats = readQueueStats();
      stats.catch(() => (cached = null));
      cached = { at: now, stats };
    }
    return cached.stats;
  };
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'herald_process_' });
  const eventsIngested = new Counter({ name: 'herald_events_ingested_total', help: 'Events recorded', labelNames: ['source'] as const, registers: [registry] });
  const ingestReplays = new Counter({ name: 'herald_ingest_replays_total', help: 'Ingest requests answered from an idempotency key', registers: [registry] });
  const attempts = new Counter({ name: 'herald_delivery_attempts_total', help: 'Delivery attempts by channel and outcome', labelNames: ['channel', 'outcome'] as const, registers: [registry] });
  const attemptSeconds = new Histogram({
    name: 'herald_attempt_duration_seconds',
    help: 'Duration of delivery attempts',
    labelNames: ['channel'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const commitUnits = new Histogram({
    name: 'herald_ledger_commit_units',
    help: 'Units of work per group commit',
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000],
    registers: [registry],
  });
  const ledgerEntries = new Counter({ name: 'herald_ledger_entries_total', help: 'Ledger entries appended', labelNames: ['kind'] as const, registers: [registry] });
  new Gauge({
    name: 'herald_queue_depth',
    help: 'Deliveries waiting for an attempt (pending or failed) and in flight',
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      const s = await queueStats();
      this.set({ state: 'waiting' }, s.waiting);
      this.set({ state: 'delivering' }, s.delivering);
    },
  });
  new Gauge({
    name: 'herald_oldest_due_age_seconds',
    help: 'How long the oldest due delivery has been waiting for its attempt',
    registers: [registry],
    async collect() {
      const s = await queueStats();
      this.set(s.oldest_due_at ? Math.max(0, (clock().getTime() - Date.parse(s.oldest_due_at)) / 1000) : 0);
    },
  });
  return { registry, eventsIngested, ingestReplays, attempts, attemptSeconds, commitUnits, ledgerEntries };
}

export type Metrics = ReturnType<typeof createMetrics>;
