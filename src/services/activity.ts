// What herald has been doing, for the console: deliveries per minute by result, events received,
// the queue, endpoints in trouble, and each endpoint's recent health.
import type { ActivityCount } from '../store/records.js';
import type { ServiceContext } from './context.js';

export const RESULTS = ['succeeded', 'failed', 'dead'] as const;
type Result = (typeof RESULTS)[number];

/** Counts per time bucket, in uPlot's shape: [bucket starts (unix s), then one array per result]. */
export interface Series {
  bucket_s: number;
  results: readonly Result[];
  data: number[][];
  totals: Record<Result, number>;
}

const MINUTE = 60_000;

/** The overview counts waiting deliveries up to this many ("100,000+"): past it, counting costs more than it tells. */
const WAITING_COUNT_CAP = 100_000;

/** Endpoints in trouble the overview lists (the endpoints page has them all). */
const TROUBLED_SHOWN = 100;

export function bucketed(rows: ActivityCount[], from: Date, to: Date, bucketMs: number): Series {
  const start = Math.floor(from.getTime() / bucketMs) * bucketMs;
  const n = Math.ceil((to.getTime() - start) / bucketMs);
  const xs = Array.from({ length: n }, (_, i) => (start + i * bucketMs) / 1000);
  const ys = RESULTS.map(() => new Array<number>(n).fill(0));
  const totals = { succeeded: 0, failed: 0, dead: 0 };
  for (const r of rows) {
    const k = RESULTS.indexOf(r.what as Result);
    const i = Math.floor((Date.parse(r.minute) - start) / bucketMs);
    if (k < 0 || i < 0 || i >= n) continue;
    ys[k]![i]! += r.n;
    totals[r.what as Result] += r.n;
  }
  return { bucket_s: bucketMs / 1000, results: RESULTS, data: [xs, ...ys], totals };
}

export class ActivityService {
  constructor(private readonly ctx: Pick<ServiceContext, 'store' | 'clock'>) {}

  async overview() {
    const now = this.ctx.clock();
    const hourAgo = new Date(now.getTime() - 60 * MINUTE);
    const dayAgo = new Date(now.getTime() - 24 * 60 * MINUTE);
    const end = new Date(now.getTime() + MINUTE);
    const [day, queue, endpoints] = await Promise.all([
      this.ctx.store.read.activity.between(dayAgo, end),
      this.ctx.store.read.deliveries.queueStats(now, WAITING_COUNT_CAP),
      this.ctx.store.read.endpoints.troubledEndpoints(TROUBLED_SHOWN),
    ]);
    const hour = day.filter((r) => Date.parse(r.minute) >= hourAgo.getTime() - MINUTE);
    const fiveAgo = now.getTime() - 5 * MINUTE;
    const received = (rows: ActivityCount[], since: number) => rows.filter((r) => r.what === 'received' && Date.parse(r.minute) >= since).reduce((a, r) => a + r.n, 0);
    return {
      hour: bucketed(hour, hourAgo, end, MINUTE),
      day: bucketed(day, dayAgo, end, 15 * MINUTE),
      ingest: { per_minute_5m: received(hour, fiveAgo) / 5, last_hour: received(hour, hourAgo.getTime()), last_day: received(day, dayAgo.getTime()) },
      queue: { ...queue, oldest_due_age_s: queue.oldest_due_at ? Math.max(0, (now.getTime() - Date.parse(queue.oldest_due_at)) / 1000) : null },
      troubled: endpoints,
    };
  }

  /** Every endpoint's share of attempts that succeeded over the last 24 hours. */
  async successRates(): Promise<Map<string, { attempts: number; success_rate: number | null }>> {
    const now = this.ctx.clock();
    const rows = await this.ctx.store.read.activity.between(new Date(now.getTime() - 24 * 60 * MINUTE), new Date(now.getTime() + MINUTE));
    const by = new Map<string, { attempts: number; succeeded: number }>();
    for (const r of rows) {
      if (!r.endpoint_id || !RESULTS.includes(r.what as Result)) continue;
      const t = by.get(r.endpoint_id) ?? { attempts: 0, succeeded: 0 };
      t.attempts += r.n;
      if (r.what === 'succeeded') t.succeeded += r.n;
      by.set(r.endpoint_id, t);
    }
    return new Map([...by].map(([id, t]) => [id, { attempts: t.attempts, success_rate: t.attempts === 0 ? null : t.succeeded / t.attempts }]));
  }

  /** An endpoint's last 24 hours: attempts by result, success rate, and its latest failures. */
  async endpointHealth(endpointId: string) {
    const now = this.ctx.clock();
    const rows = await this.ctx.store.read.activity.between(new Date(now.getTime() - 24 * 60 * MINUTE), new Date(now.getTime() + MINUTE), endpointId);
    const sum = (what: string) => rows.filter((r) => r.what === what).reduce((a, r) => a + r.n, 0);
    const counts = { succeeded: sum('succeeded'), failed: sum('failed'), dead: sum('dead') };
    const attempts = counts.succeeded + counts.failed + counts.dead;
    return {
      ...counts,
      attempts,
      success_rate: attempts === 0 ? null : counts.succeeded / attempts,
      recent_failures: await this.ctx.store.read.deliveries.recentFailures(endpointId, 1000, 10),
    };
  }
}
