#!/usr/bin/env node
// Deliveries queries on a large table (`node scripts/bench-requeue.mjs`, after `npm run build`), against
// the compiled store in dist/: what the console's deliveries view and "retry all matching" ask.
//   1. a fresh database migrated by herald, filled with BENCH_DELIVERIES synthetic delivery rows (and
//      their events) written straight into the projections: 20 endpoints (one disabled), 7 event types,
//      90% succeeded / 7% dead / 2% failed / 1% pending, one event every 3 s, a few ledger positions
//      apart. Not a ledger (nothing verifies it): it measures the queries, and building 1,000,000
//      deliveries through the API would take most of an hour;
//   2. for each filter case: a first page of the list (50, newest first), p50/p99 of BENCH_REPEAT runs;
//      the requeue count, and the longest the event loop was held while it ran (it yields between
//      windows); the walk a requeue job makes (chunks of 500): steps, longest step, total;
//   3. correctness: the count, the walk and one plain SQL count (no windows) agree for every case; the
//      exit code is non-zero otherwise. Timings are printed, never asserted.
// Knobs: BENCH_DELIVERIES (1000000), BENCH_REPEAT (20), BENCH_KEEP=1 (keep the temp dir).
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { migrateToLatest, openDatabase } from '../dist/src/store/sqlite/connection.js';
import { listDeliveries } from '../dist/src/store/sqlite/queries/deliveries.js';
import { countRequeueCandidates, requeueCandidates } from '../dist/src/store/sqlite/queries/requeue.js';

const N = Number(process.env.BENCH_DELIVERIES ?? 1_000_000);
const REPEAT = Number(process.env.BENCH_REPEAT ?? 20);
const dir = mkdtempSync(join(tmpdir(), 'herald-bench-requeue-'));
const path = join(dir, 'herald.db');

const TYPES = ['job.submitted', 'job.started', 'job.completed', 'job.failed', 'job.timed_out', 'build.done', 'user.signup'];
const ENDPOINTS = Array.from({ length: 20 }, (_, i) => `ep_${String(i).padStart(3, '0')}`);
const T0 = Date.parse('2026-01-01T00:00:00Z');
const day = (d) => new Date(T0 + d * 86_400_000).toISOString();

function fill() {
  const raw = new Database(path);
  const endpoint = raw.prepare(`INSERT INTO endpoints (id, seq, channel, url, events_json, header_names_json, timeout_ms, enabled, consecutive_dead, created_at, updated_at)
                                VALUES (?, ?, 'webhook', 'https://example.com/hook', '["*"]', '[]', 1000, ?, 0, ?, ?)`);
  const event = raw.prepare(`INSERT INTO events (id, seq, type, received_at, data_json) VALUES (?, ?, ?, ?, '{}')`);
  const delivery = raw.prepare(`INSERT INTO deliveries (id, seq, idx, event_id, endpoint_id, channel, status, next_attempt_at, attempts, cycle_start,
                                  next_trigger, next_actor, created_at, updated_at, event_type)
                                VALUES (?, ?, 0, ?, ?, 'webhook', ?, ?, 1, 0, 'initial', 'bench', ?, ?, ?)`);
  let seq = ENDPOINTS.length;
  raw.transaction(() => ENDPOINTS.forEach((id, i) => endpoint.run(id, i + 1, i === 3 ? 0 : 1, day(0), day(0))))();
  raw.transaction(() => {
    for (let i = 0; i < N; i++) {
      seq += 1 + (i % 4); // attempts' entries in between
      const r = Math.random();
      const status = r < 0.9 ? 'succeeded' : r < 0.97 ? 'dead' : r < 0.99 ? 'failed' : 'pending';
      const at = new Date(T0 + i * 3000).toISOString();
      const type = TYPES[i % TYPES.length];
      event.run(`evt_${i}`, seq, type, at);
      delivery.run(`msg_${i}`, seq, `evt_${i}`, ENDPOINTS[i % ENDPOINTS.length], status, status === 'failed' || status === 'pending' ? at : null, at, at, type);
    }
  })();
  // What the event.received projection keeps for time filters: each minute's range of ledger positions.
  raw.exec(`INSERT INTO minute_positions (minute, first_seq, last_seq) SELECT substr(created_at, 1, 16), min(seq), max(seq) FROM deliveries GROUP BY 1`);
  raw.close();
  return seq;
}

const q = (values) => values.sort((a, b) => a - b);
const pct = (values, p) => q(values)[Math.min(values.length - 1, Math.floor((p / 100) * values.length))];
const ms = (v) => `${v.toFixed(1)} ms`;

const opened = openDatabase({ path, synchronous: 'OFF' });
await migrateToLatest(opened.db);
await opened.db.destroy();
const t = performance.now();
const head = fill();
console.log(`${N.toLocaleString('en')} deliveries written in ${((performance.now() - t) / 1000).toFixed(0)} s`);

const { db, raw } = openDatabase({ path });
const REQUEUABLE = ['succeeded', 'failed', 'dead'];
const cases = {
  'no filter': {},
  'status=dead': { status: 'dead' },
  'endpoint_id': { endpoint_id: 'ep_005' },
  'endpoint_id, status=dead': { endpoint_id: 'ep_005', status: 'dead' },
  'type=job.failed': { type: 'job.failed' },
  'type=job.failed, status=dead': { type: 'job.failed', status: 'dead' },
  'type=job.*': { type: 'job.*' },
  'type=job.*, status=dead': { type: 'job.*', status: 'dead' },
  'one day': { since: day(10), until: day(11) },
  'one day, status=dead': { since: day(10), until: day(11), status: 'dead' },
  'disabled endpoint': { endpoint_id: 'ep_003' },
};

/** The same selection in one plain statement: what the windows must add up to. */
function plainCount(m) {
  const where = ['digest_id IS NULL', `status IN ('succeeded','failed','dead')`, `endpoint_id NOT IN (SELECT id FROM endpoints WHERE enabled = 0 OR archived_at IS NOT NULL)`];
  const args = [];
  for (const k of ['endpoint_id', 'status']) if (m[k]) (where.push(`${k} = ?`), args.push(m[k]));
  if (m.type?.endsWith('.*')) (where.push('event_type > ? AND event_type < ?'), args.push(m.type.slice(0, -1), `${m.type.slice(0, -2)}/`));
  else if (m.type) (where.push('event_type = ?'), args.push(m.type));
  if (m.since) (where.push('created_at >= ?'), args.push(m.since));
  if (m.until) (where.push('created_at < ?'), args.push(m.until));
  return raw.prepare(`SELECT count(*) AS n FROM deliveries WHERE ${where.join(' AND ')}`).get(...args).n;
}

let wrong = 0;
console.log('| filters | list page p50 / p99 | count | count took (longest hold) | requeue walk: steps, longest, total |');
console.log('| --- | --- | --- | --- | --- |');
for (const [name, match] of Object.entries(cases)) {
  const pages = [];
  for (let i = 0; i < REPEAT; i++) {
    const s = performance.now();
    await listDeliveries(db, { ...match, limit: 50 });
    pages.push(performance.now() - s);
  }
  const sel = { match, statuses: REQUEUABLE, live_endpoints_only: true, up_to_seq: head };
  let last = performance.now();
  let hold = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    hold = Math.max(hold, now - last);
    last = now;
  }, 1);
  const c0 = performance.now();
  const count = await countRequeueCandidates(db, sel);
  const took = performance.now() - c0;
  clearInterval(ticker);
  hold = Math.max(hold, performance.now() - last); // the stretch since the last tick counts too
  let after = [0, 0];
  let steps = 0;
  let longest = 0;
  let walked = 0;
  const w0 = performance.now();
  for (;;) {
    const s = performance.now();
    const step = await requeueCandidates(db, sel, after, 500);
    longest = Math.max(longest, performance.now() - s);
    steps++;
    walked += step.rows.length;
    if (!step.next) break;
    after = step.next;
  }
  const plain = plainCount(match);
  const ok = count === walked && count === plain;
  if (!ok) wrong++;
  console.log(`| ${name} | ${ms(pct(pages, 50))} / ${ms(pct(pages, 99))} | ${count.toLocaleString('en')}${ok ? '' : ` ≠ walk ${walked} / plain ${plain}`} | ${ms(took)} (${ms(hold)}) | ${steps}, ${ms(longest)}, ${ms(performance.now() - w0)} |`);
}
await db.destroy();
if (process.env.BENCH_KEEP === '1') console.log(`kept ${dir}`);
else rmSync(dir, { recursive: true, force: true });
if (wrong > 0) {
  console.error(`${wrong} case(s): the count, the walk and the plain count disagree`);
  process.exit(1);
}
