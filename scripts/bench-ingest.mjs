#!/usr/bin/env node
// Ingest benchmark (`npm run bench:ingest`), in one run against the compiled herald in dist/:
//   1. BASELINE: a bare hono handler on @hono/node-server in a child process (POST /v1/events reads
//      the JSON body and answers 202 with a small JSON), driven by autocannon;
//   2. HERALD: `node bin/herald.js serve` as a child process on a fresh temp database (WAL,
//      synchronous=FULL, the default), with webhook endpoints whose filters match every event and
//      whose URL is a loopback receiver (another child process) that answers 200 at once, so the
//      deliveries herald makes while it ingests succeed quickly; driven by the same autocannon load;
//   3. events/s (2xx/s), the ratio herald/baseline, p50/p99 latency, non-2xx counts, herald's average
//      group-commit size (herald_ledger_commit_units on /metrics, when herald observes it);
//   4. correctness: every acknowledged (2xx) event is in herald, none twice, nothing recorded beyond
//      what was still in flight when the load stopped, and GET /v1/ledger/verify is ok.
// Every request carries a unique Idempotency-Key, an Authorization: Bearer header and a ~300-byte
// JSON event. Timings are printed, never asserted; the exit code is non-zero only when a
// correctness check fails.
//
// Knobs (environment): BENCH_CONNECTIONS (50), BENCH_DURATION_S (10), BENCH_WARMUP_S (2),
// BENCH_ENDPOINTS (0: ingest alone; N: N webhook endpoints match every event, so herald also delivers while it ingests), BENCH_SKIP_BASELINE=1,
// BENCH_CPU_PROF=<dir> (herald runs with --cpu-prof into that directory), BENCH_KEEP=1 (keep the temp dir).
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os, { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { ROOT, jsonOrText, procCpuSeconds, serveOkReceiver, startHeraldProcess, checksVerdict, runBench } from './bench-support.mjs';

const require = createRequire(import.meta.url);

// ---------------------------------------------------------------------------------------------
// Child processes

/** The baseline: a bare hono handler, the least any JSON ingest endpoint on this stack costs. */
async function runBaseline() {
  const { Hono } = await import('hono');
  const { serve } = await import('@hono/node-server');
  const app = new Hono();
  let n = 0;
  app.post('/v1/events', async (c) => {
    const body = await c.req.json();
    n++;
    return c.json({ id: `evt_${n}`, type: body.type, received_at: new Date().toISOString(), deliveries: [] }, 202);
  });
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => process.send({ type: 'ready', port: info.port }));
  process.on('message', (m) => {
    if (m.type === 'cpu') process.send({ type: 'cpu', usage: process.cpuUsage() });
  });
  process.on('disconnect', () => server.close(() => process.exit(0)));
}

/** The webhook receiver herald delivers to: 200 at once, counts what it got. */
function runReceiver() {
  let hooks = 0;
  serveOkReceiver(() => {
    hooks++;
  });
  process.on('message', (m) => {
    if (m.type === 'count') process.send({ type: 'count', hooks });
    else if (m.type === 'cpu') process.send({ type: 'cpu', usage: process.cpuUsage() });
  });
  process.on('disconnect', () => process.exit(0));
}

// ---------------------------------------------------------------------------------------------
// The bench (parent process)

const num = (name, dflt, min = 1) => {
  const v = process.env[name];
  const n = v === undefined || v === '' ? dflt : Number(v);
  if (!Number.isFinite(n) || n < min) throw new Error(`${name} must be a number ≥ ${min}`);
  return n;
};
const CONNECTIONS = num('BENCH_CONNECTIONS', 50);
const DURATION_S = num('BENCH_DURATION_S', 10);
const WARMUP_S = num('BENCH_WARMUP_S', 2);
const ENDPOINTS = num('BENCH_ENDPOINTS', 0, 0);
const SKIP_BASELINE = process.env.BENCH_SKIP_BASELINE === '1';
const CPU_PROF = process.env.BENCH_CPU_PROF ? resolve(process.env.BENCH_CPU_PROF) : null;
const KEEP = process.env.BENCH_KEEP === '1';
const EVENT_TYPE = 'job.completed';

const failures = [];
const check = (ok, what) => {
  if (!ok) failures.push(what);
  return ok;
};

const f0 = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : String(n));
const f1 = (n) => (Number.isFinite(n) ? n.toFixed(1) : String(n));
const f2 = (n) => (Number.isFinite(n) ? n.toFixed(2) : String(n));

/** A realistic job.completed event of about 300 bytes; `n` makes it unique (subject job-N). */
function eventBody(runId, n) {
  const ev = {
    type: EVENT_TYPE,
    subject: `job-${runId}-${n}`,
    user: 'alice',
    data: {
      queue: 'gpu-a100',
      node: `node-${n % 64}`,
      exit_code: 0,
      runtime_s: 3600 + (n % 977),
      gpus: 8,
      artifacts: `s3://ml-runs/alice/job-${n}/`,
      message: '',
    },
  };
  ev.data.message = 'training finished, checkpoint uploaded'.padEnd(Math.max(0, 300 - JSON.stringify(ev).length), '.');
  return JSON.stringify(ev);
}

/** CPU over a phase, by process (pids), this process and the whole machine, as % of one core. */
function cpuMeter(pids) {
  const snap = () => ({
    t: performance.now(),
    bench: process.cpuUsage(),
    procs: Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, procCpuSeconds(pid)])),
  });
  const a = snap();
  return () => {
    const b = snap();
    const seconds = (b.t - a.t) / 1000;
    const pct = (v) => (v === null ? 'n/a' : `${Math.round((v / seconds) * 100)}%`);
    const parts = Object.keys(pids).map((name) => {
      const x = a.procs[name];
      const y = b.procs[name];
      return `${name} ${pct(x === null || y === null ? null : y - x)}`;
    });
    const bench = (b.bench.user + b.bench.system - a.bench.user - a.bench.system) / 1e6;
    parts.push(`load generator ${pct(bench)}`);
    return `CPU (100% = one core of ${os.cpus().length}): ${parts.join(', ')}`;
  };
}

async function startChild(mode) {
  const child = fork(fileURLToPath(import.meta.url), [mode], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise((res, rej) => {
    child.once('message', (m) => (m.type === 'ready' ? res(m.port) : rej(new Error(`${mode} did not start`))));
    child.once('exit', (code) => rej(new Error(`${mode} exited (${code})`)));
  });
  const ask = (type) =>
    new Promise((res) => {
      const onMessage = (m) => {
        if (m.type === type) {
          child.off('message', onMessage);
          res(m);
        }
      };
      child.on('message', onMessage);
      child.send({ type });
    });
  return { child, port, ask };
}

/**
 * Drives POST /v1/events with autocannon: CONNECTIONS keep-alive connections, no pipelining, a unique
 * Idempotency-Key and event per request. Records which numbers were answered 2xx.
 */
async function load(autocannon, { url, token, runId, seconds, counter, acked }) {
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    pipelining: 1,
    duration: seconds,
    timeout: 30,
    requests: [
      {
        method: 'POST',
        path: '/v1/events',
        setupRequest: (req, context) => {
          const n = counter.next++;
          context.n = n;
          return {
            ...req,
            headers: {
              'content-type': 'application/json',
              authorization: `Bearer ${token}`,
              'idempotency-key': `bench-${runId}-${n}`,
            },
            body: eventBody(runId, n),
          };
        },
        onResponse: (status, _body, context) => {
          if (status >= 200 && status < 300) acked.add(context.n);
        },
      },
    ],
  });
  return result;
}

function summarize(label, r) {
  const ok = r['2xx'];
  return {
    label,
    ok,
    rps: ok / r.duration,
    seconds: r.duration,
    p50: r.latency.p50,
    p99: r.latency.p99,
    max: r.latency.max,
    non2xx: r.non2xx,
    statusCodes: r.statusCodeStats,
    errors: r.errors,
    timeouts: r.timeouts,
    answered: Object.values(r.statusCodeStats).reduce((s, x) => s + x.count, 0),
  };
}

function describe(s) {
  const codes = Object.entries(s.statusCodes)
    .map(([code, { count }]) => `${code}×${f0(count)}`)
    .join(' ');
  return (
    `${f0(s.rps)} events/s (${f0(s.ok)} 2xx in ${f2(s.seconds)} s); latency p50 ${f1(s.p50)} ms, p99 ${f1(s.p99)} ms, max ${f1(s.max)} ms; ` +
    `non-2xx ${s.non2xx}, connection errors ${s.errors}, timeouts ${s.timeouts} [${codes}]`
  );
}

async function runBaselinePhase(autocannon, runId) {
  const baseline = await startChild('--baseline');
  try {
    const url = `http://127.0.0.1:${baseline.port}`;
    const counter = { next: 0 };
    const acked = new Set();
    await load(autocannon, { url, token: 'baseline-token', runId, seconds: WARMUP_S, counter, acked });
    const meter = cpuMeter({ baseline: baseline.child.pid });
    const r = summarize('baseline', await load(autocannon, { url, token: 'baseline-token', runId, seconds: DURATION_S, counter, acked }));
    const cpu = meter();
    check(r.non2xx === 0 && r.errors === 0, `baseline: ${r.non2xx} non-2xx answers, ${r.errors} errors`);
    return { ...r, cpu };
  } finally {
    baseline.child.disconnect();
  }
}

async function call(herald, method, path, body) {
  const headers = { authorization: `Bearer ${herald.adminKey}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${herald.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: jsonOrText(text) };
}

/** Sum and count of a Prometheus histogram (no labels) from /metrics text. */
async function histogram(herald, name) {
  const text = await (await fetch(`${herald.url}/metrics`)).text();
  const value = (suffix) => {
    const m = new RegExp(`^${name}_${suffix}(?:\\{\\})? (\\S+)$`, 'm').exec(text);
    return m ? Number(m[1]) : null;
  };
  const counter = (metric) => {
    const m = new RegExp(`^${metric}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
    return m ? Number(m[1]) : null;
  };
  return { sum: value('sum'), count: value('count'), replays: counter('herald_ingest_replays_total') };
}

async function runHeraldPhase(autocannon, runId) {
  const receiver = await startChild('--receiver');
  const dir = mkdtempSync(join(tmpdir(), 'herald-bench-ingest-'));
  let herald;
  try {
    herald = await startHeraldProcess(dir, { env: { HERALD_SHUTDOWN_GRACE_MS: '2000' }, cpuProfDir: CPU_PROF });
    const receiverUrl = `http://127.0.0.1:${receiver.port}/hook`;
    for (let i = 0; i < ENDPOINTS; i++) {
      const r = await call(herald, 'POST', '/v1/endpoints', {
        channel: 'webhook',
        url: `${receiverUrl}/${i}`,
        events: [i % 2 === 0 ? EVENT_TYPE : 'job.*'],
        description: `bench-ingest ${i}`,
      });
      if (r.status !== 201 && r.status !== 200) throw new Error(`creating an endpoint answered ${r.status}: ${JSON.stringify(r.body)}`);
    }
    console.log(
      `  herald: child process, db ${join(dir, 'herald.db')} (WAL, synchronous=FULL), log level warn, ` +
        `${ENDPOINTS} webhook endpoint(s) matching ${EVENT_TYPE} → loopback receiver ${receiverUrl}/<n> (200 at once, separate process), ` +
        `so each event makes ${ENDPOINTS} deliveries that herald's delivery engine sends while ingest runs`,
    );

    const counter = { next: 0 };
    const acked = new Set();
    const warm = summarize('warm-up', await load(autocannon, { url: herald.url, token: herald.adminKey, runId, seconds: WARMUP_S, counter, acked }));
    const before = await histogram(herald, 'herald_ledger_commit_units');
    const hooksBefore = (await receiver.ask('count')).hooks;
    const meter = cpuMeter({ herald: herald.child.pid, receiver: receiver.child.pid });
    const r = summarize('herald', await load(autocannon, { url: herald.url, token: herald.adminKey, runId, seconds: DURATION_S, counter, acked }));
    const cpu = meter();
    const hooks = (await receiver.ask('count')).hooks - hooksBefore;
    const after = await histogram(herald, 'herald_ledger_commit_units');
    const commits = after.count === null || before.count === null ? null : after.count - before.count;
    const batch = commits ? (after.sum - before.sum) / commits : null;

    // Correctness: acknowledged means recorded.
    const sent = counter.next;
    const answered = warm.answered + r.answered;
    await sleep(500); // the requests still in flight when autocannon stopped get committed (or not) meanwhile
    const seen = new Map();
    let cursor = null;
    let pages = 0;
    let heraldEvents = 0;
    do {
      const page = await call(herald, 'GET', `/v1/events?type=${EVENT_TYPE}&limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      if (page.status !== 200) throw new Error(`GET /v1/events answered ${page.status}: ${JSON.stringify(page.body).slice(0, 300)}`);
      for (const ev of page.body.data) {
        heraldEvents++;
        const m = /^job-([0-9a-f]+)-(\d+)$/.exec(ev.subject ?? '');
        if (!m || m[1] !== runId) continue;
        const n = Number(m[2]);
        seen.set(n, (seen.get(n) ?? 0) + 1);
      }
      cursor = page.body.next_cursor;
      pages++;
    } while (cursor);
    const missing = [...acked].filter((n) => !seen.has(n));
    const twice = [...seen.values()].filter((c) => c > 1).length;
    const extra = [...seen.keys()].filter((n) => !acked.has(n)).length;
    const inFlight = sent - answered;
    const verify = await call(herald, 'GET', '/v1/ledger/verify');
    const metrics = await histogram(herald, 'herald_ledger_commit_units');

    console.log('\nHERALD');
    console.log(`  warm-up ${WARMUP_S} s: ${describe(warm)}`);
    console.log(`  measured ${DURATION_S} s: ${describe(r)}`);
    console.log(`  ${cpu}`);
    console.log(
      `  group commit: ${
        batch === null
          ? 'n/a (herald_ledger_commit_units has no observations on /metrics)'
          : `${f1(batch)} units per commit on average (${f0(commits)} commits)`
      }`,
    );
    console.log(`  deliveries received by the loopback receiver during the measured run: ${f0(hooks)} (${f0(hooks / r.seconds)}/s)`);

    console.log('\nCHECKS (acknowledged means recorded)');
    console.log(
      `  requests sent ${f0(sent)}, answered ${f0(answered)} (2xx ${f0(acked.size)}), unanswered when the load stopped ${f0(inFlight)}; ` +
        `${EVENT_TYPE} events in herald ${f0(heraldEvents)} (${pages} pages of ≤500)`,
    );
    check(missing.length === 0, `${missing.length} acknowledged events are not in herald (e.g. job-${missing.slice(0, 3).join(', job-')})`);
    check(twice === 0, `${twice} events were recorded more than once`);
    check(extra <= inFlight, `${extra} events are in herald that were never acknowledged, more than the ${inFlight} requests in flight at the stop`);
    check(heraldEvents === seen.size, `herald holds ${heraldEvents - seen.size} ${EVENT_TYPE} events that this run did not send`);
    check(metrics.replays === 0 || metrics.replays === null, `herald answered ${metrics.replays} requests as idempotent replays (every key was unique)`);
    console.log(
      `  acknowledged but missing: ${missing.length}; recorded twice: ${twice}; ` +
        `recorded but unacknowledged: ${extra} (≤ ${inFlight} in flight at the stop); replays: ${metrics.replays ?? 'n/a'}`,
    );
    console.log(`  herald events == 2xx answers (+ those in flight at the stop that committed): ${heraldEvents === acked.size + extra ? 'yes' : 'NO'} (${f0(heraldEvents)} = ${f0(acked.size)} + ${extra})`);
    check(verify.status === 200 && verify.body.ok === true, `ledger verify: ${verify.status} ${JSON.stringify(verify.body)}`);
    console.log(`  GET /v1/ledger/verify: ok=${verify.body.ok}, ${f0(verify.body.entries)} entries`);
    return { ...r, cpu, batch, commits, hooks };
  } finally {
    await herald?.stop().catch(() => {});
    receiver.child.disconnect();
    if (KEEP || failures.length > 0) console.log(`  (kept ${dir})`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  if (!existsSync(join(ROOT, 'dist/src/main.js'))) throw new Error('dist/ is missing: run `npm run build` (npm run bench:ingest does)');
  const autocannon = require('autocannon');
  const runId = randomBytes(4).toString('hex');
  console.log(
    `bench-ingest: node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}); autocannon ${CONNECTIONS} connections, ` +
      `keep-alive, no pipelining, ${WARMUP_S} s warm-up + ${DURATION_S} s measured per target; ` +
      `POST /v1/events with a unique Idempotency-Key, Authorization: Bearer and a ${Buffer.byteLength(eventBody(runId, 1))}-byte event`,
  );

  let base = null;
  if (!SKIP_BASELINE) {
    console.log('\nBASELINE: bare hono handler on @hono/node-server (child process): read the JSON body, answer 202 with a small JSON');
    base = await runBaselinePhase(autocannon, runId);
    console.log(`  ${describe(base)}`);
    console.log(`  ${base.cpu}`);
  }

  console.log('\nHERALD: starting');
  const h = await runHeraldPhase(autocannon, runId);

  console.log('\nSUMMARY');
  if (base) console.log(`  baseline: ${f0(base.rps)} events/s, p50 ${f1(base.p50)} ms, p99 ${f1(base.p99)} ms, non-2xx ${base.non2xx}`);
  console.log(
    `  herald:   ${f0(h.rps)} events/s, p50 ${f1(h.p50)} ms, p99 ${f1(h.p99)} ms, non-2xx ${h.non2xx}, ` +
      `group commit ${h.batch === null ? 'n/a' : `${f1(h.batch)} units/commit`} (synchronous=FULL, ${ENDPOINTS} endpoints → loopback receiver)`,
  );
  if (base) console.log(`  ratio herald/baseline: ${(h.rps / base.rps * 100).toFixed(1)}% (target ≥ 40%)`);
  if (CPU_PROF) console.log(`  herald CPU profile written to ${CPU_PROF}`);

  return checksVerdict(failures);
}

// Entry point (at the end, so every module-level constant above is initialised).
if (process.argv[2] === '--baseline') void runBaseline();
else runBench(main, runReceiver);
