#!/usr/bin/env node
// Delivery benchmark (`npm run bench:deliver`), in one run against the compiled herald in dist/:
//   1. a loopback receiver in a child process (node:http, answers 200 at once, records the receive
//      time and the webhook-id of every request and sends them back over IPC);
//   2. BASELINE: a bare undici keep-alive loop POSTing a ~300-byte JSON body to that receiver at the
//      same concurrency herald uses (requests/s);
//   3. HERALD: herald as a child process on a fresh temp database (synchronous=FULL), webhook
//      endpoints pointing at the receiver, N events pre-loaded through POST /v1/events/batch, and
//      deliveries/s measured from the receipts (first to last);
//   4. the ratio herald/baseline;
//   5. LATENCY: single POST /v1/events at a steady rate (1,000/s by default); ingest-ack → receipt
//      per delivery (p50/p99/max);
//   6. correctness: every delivery received and recorded `succeeded` in herald, the ledger chain ok.
// Timings are printed, never asserted; the exit code is non-zero only when a correctness check fails.
//
// Both processes stamp times with performance.timeOrigin + performance.now() (wall-clock based,
// sub-millisecond); the offset between the two clocks is measured over IPC and corrected for.
//
// Knobs (environment): BENCH_EVENTS (20000), BENCH_ENDPOINTS (4), BENCH_BASELINE_S (5),
// BENCH_RATE (1000), BENCH_LATENCY_S (10), BENCH_MAX_CONCURRENT (64), BENCH_MAX_PER_ENDPOINT (16),
// BENCH_HOLD=1 (the receiver holds its answers during the pre-load, so all but the first few deliveries
// are made after it: a drain alone, over a longer window), BENCH_CPU_PROF=<dir> (runs herald with
// --cpu-prof into that directory), BENCH_KEEP=1 (keep the temp dir).
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { ROOT, jsonOrText, procCpuSeconds, serveOkReceiver, startHeraldProcess, checksVerdict, ipc, machineBusySeconds, runBench } from './bench-support.mjs';

const now = () => performance.timeOrigin + performance.now();

// ---------------------------------------------------------------------------------------------
// The receiver (child process)

function runReceiver() {
  let ids = [];
  let times = [];
  let plain = 0;
  /** While held, answers wait for the release (BENCH_HOLD). */
  let held = null;
  serveOkReceiver((req) => {
    const t = now();
    const id = req.headers['webhook-id'];
    if (typeof id === 'string') {
      ids.push(id);
      times.push(t);
    } else {
      plain++;
    }
    return held?.promise;
  });
  process.on('message', (m) => {
    if (m.type === 'clock') process.send({ type: 'clock', seq: m.seq, t: now() });
    else if (m.type === 'count') process.send({ type: 'count', seq: m.seq, hooks: ids.length, plain });
    else if (m.type === 'cpu') process.send({ type: 'cpu', seq: m.seq, usage: process.cpuUsage() });
    else if (m.type === 'hold') {
      let release;
      held = { promise: new Promise((r) => (release = r)), release };
      process.send({ type: 'hold', seq: m.seq });
    } else if (m.type === 'release') {
      held?.release();
      held = null;
      process.send({ type: 'release', seq: m.seq });
    } else if (m.type === 'take') {
      process.send({ type: 'take', seq: m.seq, ids, times, plain });
      ids = [];
      times = [];
      plain = 0;
    }
  });
  process.on('disconnect', () => process.exit(0));
}

// ---------------------------------------------------------------------------------------------
// The bench (parent process)

const num = (name, dflt) => {
  const v = process.env[name];
  const n = v === undefined || v === '' ? dflt : Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number`);
  return n;
};
const EVENTS = num('BENCH_EVENTS', 20_000);
const ENDPOINTS = num('BENCH_ENDPOINTS', 4);
const BASELINE_S = num('BENCH_BASELINE_S', 5);
const RATE = num('BENCH_RATE', 1000);
const LATENCY_S = num('BENCH_LATENCY_S', 10);
const MAX_CONCURRENT = num('BENCH_MAX_CONCURRENT', 64);
const MAX_PER_ENDPOINT = num('BENCH_MAX_PER_ENDPOINT', 16);
const HOLD = process.env.BENCH_HOLD === '1';
const BATCH = 500;
const CPU_PROF = process.env.BENCH_CPU_PROF ? resolve(process.env.BENCH_CPU_PROF) : null;
const KEEP = process.env.BENCH_KEEP === '1';

const failures = [];
const check = (ok, what) => {
  if (!ok) failures.push(what);
  return ok;
};

/** A JSON payload of about `bytes` bytes. */
function payload(i, bytes) {
  const base = { job_id: `job-${i}`, queue: 'gpu-a100', state: 'completed', exit_code: 0, runtime_s: 3600 + (i % 100), pad: '' };
  const size = JSON.stringify(base).length;
  base.pad = 'x'.repeat(Math.max(0, bytes - size));
  return base;
}

function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

const f1 = (n) => (Number.isFinite(n) ? n.toFixed(1) : String(n));
const f0 = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : String(n));

async function startReceiver() {
  const child = fork(fileURLToPath(import.meta.url), ['--receiver'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise((res, rej) => {
    child.once('message', (m) => (m.type === 'ready' ? res(m.port) : rej(new Error('receiver did not start'))));
    child.once('exit', (code) => rej(new Error(`receiver exited (${code})`)));
  });
  const ask = ipc(child);
  // Clock offset (receiver − parent): the sample with the shortest round trip bounds it best.
  let best = { rtt: Infinity, offset: 0 };
  for (let i = 0; i < 50; i++) {
    const t0 = now();
    const m = await ask('clock');
    const t1 = now();
    if (t1 - t0 < best.rtt) best = { rtt: t1 - t0, offset: m.t - (t0 + t1) / 2 };
  }
  return { child, port, ask, clockOffset: best.offset, clockRtt: best.rtt };
}

async function waitForCount(ask, target, timeoutMs, label) {
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  let lastChange = Date.now();
  for (;;) {
    const { hooks } = await ask('count');
    if (hooks >= target) return hooks;
    if (hooks !== last) {
      last = hooks;
      lastChange = Date.now();
    }
    if (Date.now() > deadline || Date.now() - lastChange > 15_000) {
      console.error(`  ${label}: gave up waiting: ${hooks} of ${target} received`);
      return hooks;
    }
    await sleep(50);
  }
}

/**
 * CPU used over a phase by herald, the receiver, this process, and everything else on the machine
 * (other workloads on a shared box skew every number here, so the bench says how much there was).
 */
async function cpuMeter(receiver, heraldPid) {
  const snap = async () => ({
    t: now(),
    bench: process.cpuUsage(),
    receiver: (await receiver.ask('cpu')).usage,
    herald: heraldPid ? procCpuSeconds(heraldPid) : 0,
    machine: machineBusySeconds(),
  });
  const a = await snap();
  return async () => {
    const b = await snap();
    const u = (x, y) => (y.user + y.system - x.user - x.system) / 1e6;
    const bench = u(a.bench, b.bench);
    const recv = u(a.receiver, b.receiver);
    const herald = a.herald === null || b.herald === null ? null : b.herald - a.herald;
    const machine = a.machine === null || b.machine === null ? null : b.machine - a.machine;
    const other = machine === null || herald === null ? null : Math.max(0, machine - bench - recv - herald);
    return { seconds: (b.t - a.t) / 1000, bench, receiver: recv, herald, other };
  };
}

function describeCpu(m, withHerald = true) {
  const pct = (v) => (v === null ? 'n/a' : `${Math.round((v / m.seconds) * 100)}%`);
  return (
    `CPU (100% = one core): ${withHerald ? `herald ${pct(m.herald)}, ` : ''}receiver ${pct(m.receiver)}, ` +
    `bench client ${pct(m.bench)}, other processes on the machine ${pct(m.other)}`
  );
}

// ---------------------------------------------------------------------------------------------

async function baseline(undici, receiverUrl, receiver) {
  const agent = new undici.Agent({ keepAliveTimeout: 4_000, connections: MAX_CONCURRENT });
  const body = JSON.stringify({ id: 'evt_baseline', type: 'bench.baseline', timestamp: new Date().toISOString(), data: payload(0, 200) });
  const headers = { 'content-type': 'application/json', 'user-agent': 'bench/1' };
  const { origin, pathname } = new URL(receiverUrl);
  let stop = false;
  let counting = false;
  let done = 0;
  let bad = 0;
  const worker = async () => {
    while (!stop) {
      const res = await agent.request({ origin, path: pathname, method: 'POST', headers, body });
      await res.body.text();
      if (res.statusCode !== 200) bad++;
      if (counting) done++;
    }
  };
  const workers = Array.from({ length: MAX_CONCURRENT }, worker);
  await sleep(1000); // warm-up: connections open, JIT warm
  const meter = await cpuMeter(receiver, null);
  const t0 = now();
  counting = true;
  await sleep(BASELINE_S * 1000);
  counting = false;
  const t1 = now();
  const cpu = await meter();
  stop = true;
  await Promise.all(workers);
  await agent.close();
  await receiver.ask('take'); // drop the baseline's counters
  const seconds = (t1 - t0) / 1000;
  check(bad === 0, `baseline: ${bad} requests did not answer 200`);
  return {
    rps: done / seconds,
    requests: done,
    seconds,
    bodyBytes: Buffer.byteLength(body),
    cpu,
  };
}

function api(undici, herald) {
  const agent = new undici.Agent({ keepAliveTimeout: 10_000, connections: 256 });
  const { origin } = new URL(herald.url);
  const call = async (method, path, body, extraHeaders = {}) => {
    const headers = { authorization: `Bearer ${herald.adminKey}`, ...extraHeaders };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await agent.request({ origin, path, method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.body.text();
    return { status: res.statusCode, body: jsonOrText(text) };
  };
  return { agent, origin, call };
}

async function main() {
  if (!existsSync(join(ROOT, 'dist/src/main.js'))) throw new Error('dist/ is missing: run `npm run build` (npm run bench:deliver does)');
  const undici = await import('undici');
  const runId = randomBytes(4).toString('hex');
  console.log(`bench-deliver: node ${process.version}, ${(await import('node:os')).cpus().length} CPUs`);

  // 1. receiver
  const receiver = await startReceiver();
  const receiverUrl = `http://127.0.0.1:${receiver.port}/hook`;
  console.log(
    `receiver: separate child process on ${receiverUrl}; clock offset receiver−bench ${receiver.clockOffset.toFixed(3)} ms ` +
      `(IPC round trip ${receiver.clockRtt.toFixed(3)} ms), corrected for`,
  );
  const toBenchClock = (t) => t - receiver.clockOffset;

  // 2. baseline
  console.log(`\nBASELINE: undici Agent (keep-alive, ${MAX_CONCURRENT} connections), ${MAX_CONCURRENT} concurrent POSTs for ${BASELINE_S} s`);
  const base = await baseline(undici, receiverUrl, receiver);
  console.log(
    `  ${f0(base.rps)} requests/s (${f0(base.requests)} in ${base.seconds.toFixed(2)} s, body ${base.bodyBytes} B; ` +
      `${describeCpu(base.cpu, false)})`,
  );

  // 3. herald
  const dir = mkdtempSync(join(tmpdir(), 'herald-bench-deliver-'));
  const herald = await startHeraldProcess(dir, {
    env: { HERALD_MAX_CONCURRENT_DELIVERIES: String(MAX_CONCURRENT), HERALD_MAX_PER_ENDPOINT: String(MAX_PER_ENDPOINT) },
    cpuProfDir: CPU_PROF,
  });
  const { agent, origin, call } = api(undici, herald);
  const stopHerald = herald.stop;
  try {
    console.log(
      `\nHERALD: child process, db ${join(dir, 'herald.db')} (WAL, synchronous=FULL), ` +
        `max concurrent ${MAX_CONCURRENT}, max per endpoint ${MAX_PER_ENDPOINT}, ${ENDPOINTS} webhook endpoints → receiver`,
    );
    const endpointIds = [];
    for (let i = 0; i < ENDPOINTS + 1; i++) {
      const type = i < ENDPOINTS ? `bench.deliver.${i}` : 'bench.latency';
      const r = await call('POST', '/v1/endpoints', { channel: 'webhook', url: `${receiverUrl}/${i}`, events: [type], description: `bench ${type}`, ...(HOLD ? { timeout_ms: 120_000 } : {}) });
      if (r.status !== 201 && r.status !== 200) throw new Error(`creating an endpoint answered ${r.status}: ${JSON.stringify(r.body)}`);
      endpointIds.push(r.body.id);
    }
    if (HOLD) await receiver.ask('hold');

    // Pre-load: batches of 500, one delivery per event, spread over the endpoints.
    const preloadIds = new Set();
    const preMeter = await cpuMeter(receiver, herald.child.pid);
    const tPre0 = now();
    for (let b = 0; b < EVENTS; b += BATCH) {
      const events = [];
      for (let i = b; i < Math.min(EVENTS, b + BATCH); i++) {
        events.push({ idempotency_key: `pre-${runId}-${i}`, type: `bench.deliver.${i % ENDPOINTS}`, subject: `job-${i}`, data: payload(i, 200) });
      }
      const r = await call('POST', '/v1/events/batch', { events });
      if (r.status !== 200) throw new Error(`batch answered ${r.status}: ${JSON.stringify(r.body).slice(0, 500)}`);
      for (const item of r.body.results) {
        if (item.status !== 202) throw new Error(`batch item answered ${item.status}: ${JSON.stringify(item).slice(0, 500)}`);
        for (const d of item.event.deliveries) preloadIds.add(d.id);
      }
    }
    const tPre1 = now();
    const preCpu = await preMeter();
    const drainMeter = await cpuMeter(receiver, herald.child.pid);
    if (HOLD) await receiver.ask('release');
    check(preloadIds.size === EVENTS, `pre-load: expected ${EVENTS} deliveries, the answers named ${preloadIds.size}`);
    const receivedDuringPreload = (await receiver.ask('count')).hooks;
    console.log(
      `  pre-loaded ${f0(EVENTS)} events (${f0(preloadIds.size)} deliveries) in ${((tPre1 - tPre0) / 1000).toFixed(2)} s ` +
        `(${f0(EVENTS / ((tPre1 - tPre0) / 1000))} events/s); ${f0(receivedDuringPreload)} already delivered meanwhile`,
    );
    console.log(`  pre-load ${describeCpu(preCpu)}`);
    await waitForCount(receiver.ask, preloadIds.size, 300_000, 'deliveries');
    const drainCpu = await drainMeter();
    const got = await receiver.ask('take');

    const firstReceipt = new Map();
    let dupes = 0;
    let foreign = 0;
    for (let i = 0; i < got.ids.length; i++) {
      const id = got.ids[i];
      if (!preloadIds.has(id)) foreign++;
      else if (firstReceipt.has(id)) dupes++;
      else firstReceipt.set(id, toBenchClock(got.times[i]));
    }
    const receiptTimes = [...firstReceipt.values()].sort((a, b) => a - b);
    const missing = preloadIds.size - firstReceipt.size;
    check(missing === 0, `deliveries: ${missing} of ${preloadIds.size} never reached the receiver`);
    const tFirst = receiptTimes[0];
    const tLast = receiptTimes[receiptTimes.length - 1];
    const dps = (receiptTimes.length - 1) / ((tLast - tFirst) / 1000);
    const afterPreload = receiptTimes.filter((t) => t > tPre1);
    const dpsAfter = afterPreload.length > 1 ? afterPreload.length / ((tLast - tPre1) / 1000) : NaN;
    console.log(
      `  ${f0(dps)} deliveries/s (first → last receipt: ${f0(receiptTimes.length)} in ${((tLast - tFirst) / 1000).toFixed(2)} s); ` +
        `${f0(dpsAfter)} deliveries/s after the pre-load finished (${f0(afterPreload.length)} in ${((tLast - tPre1) / 1000).toFixed(2)} s)`,
    );
    console.log(`  after the pre-load ${describeCpu(drainCpu)}`);
    if (drainCpu.herald !== null && afterPreload.length > 0) {
      console.log(`  herald CPU per delivery after the pre-load: ${((drainCpu.herald * 1000) / afterPreload.length).toFixed(3)} ms`);
    }
    console.log(`  duplicates ${dupes}, unexpected webhook-ids ${foreign}`);

    // 4. ratio
    const ratio = dps / base.rps;
    console.log(`\nRATIO herald/baseline: ${(ratio * 100).toFixed(1)}% (target ≥ 50%)`);

    // 5. latency at a steady rate
    const total = Math.round(RATE * LATENCY_S);
    console.log(`\nLATENCY: ${f0(total)} single POST /v1/events at ${f0(RATE)}/s for ${LATENCY_S} s, one endpoint matching`);
    const ackAt = new Map();
    const sentAt = new Map();
    const ingestMs = [];
    let ingestErrors = 0;
    const pending = [];
    const fire = (i) => {
      const body = JSON.stringify({ type: 'bench.latency', subject: `lat-${i}`, data: payload(i, 200) });
      const t0 = now();
      const p = agent
        .request({
          origin,
          path: '/v1/events',
          method: 'POST',
          headers: { authorization: `Bearer ${herald.adminKey}`, 'content-type': 'application/json', 'idempotency-key': `lat-${runId}-${i}` },
          body,
        })
        .then(async (res) => {
          const t1 = now(); // the 202's headers have arrived
          const text = await res.body.text();
          if (res.statusCode !== 202) {
            ingestErrors++;
            if (ingestErrors <= 3) console.error(`  ingest answered ${res.statusCode}: ${text.slice(0, 300)}`);
            return;
          }
          const id = JSON.parse(text).deliveries[0]?.id;
          if (!id) {
            ingestErrors++;
            return;
          }
          ackAt.set(id, t1);
          sentAt.set(id, t0);
          ingestMs.push(t1 - t0);
        })
        .catch((err) => {
          ingestErrors++;
          if (ingestErrors <= 3) console.error(`  ingest failed: ${err.message}`);
        });
      pending.push(p);
    };
    const latMeter = await cpuMeter(receiver, herald.child.pid);
    const tLat0 = now();
    let sent = 0;
    let maxBehind = 0;
    while (sent < total) {
      const due = Math.min(total, Math.floor(((now() - tLat0) * RATE) / 1000) + 1);
      maxBehind = Math.max(maxBehind, due - sent);
      while (sent < due) fire(sent++);
      await sleep(1);
    }
    const tLat1 = now();
    await Promise.all(pending);
    await waitForCount(receiver.ask, total - ingestErrors, 60_000, 'latency deliveries');
    const latCpu = await latMeter();
    const lat = await receiver.ask('take');
    check(ingestErrors === 0, `latency: ${ingestErrors} ingests failed`);
    const latencies = [];
    const sendToReceipt = [];
    const seen = new Set();
    let latDupes = 0;
    for (let i = 0; i < lat.ids.length; i++) {
      const id = lat.ids[i];
      if (seen.has(id)) {
        latDupes++;
        continue;
      }
      seen.add(id);
      const a = ackAt.get(id);
      if (a === undefined) continue;
      const r = toBenchClock(lat.times[i]);
      latencies.push(r - a);
      sendToReceipt.push(r - sentAt.get(id));
    }
    const latMissing = [...ackAt.keys()].filter((id) => !seen.has(id)).length;
    check(latMissing === 0, `latency: ${latMissing} acknowledged deliveries never reached the receiver`);
    latencies.sort((a, b) => a - b);
    sendToReceipt.sort((a, b) => a - b);
    ingestMs.sort((a, b) => a - b);
    const sendSeconds = (tLat1 - tLat0) / 1000;
    console.log(
      `  sent ${f0(sent)} in ${sendSeconds.toFixed(2)} s (${f0(sent / sendSeconds)}/s, at most ${maxBehind} per timer tick); ` +
        describeCpu(latCpu),
    );
    console.log(
      `  ingest-ack → receipt: p50 ${f1(quantile(latencies, 0.5))} ms, p90 ${f1(quantile(latencies, 0.9))} ms, ` +
        `p99 ${f1(quantile(latencies, 0.99))} ms, max ${f1(latencies[latencies.length - 1])} ms, ` +
        `min ${f1(latencies[0])} ms (n=${f0(latencies.length)}; negative = the webhook arrived before the 202 did) (target p99 < 50 ms)`,
    );
    console.log(
      `  for reference: POST → 202 p50 ${f1(quantile(ingestMs, 0.5))} ms, p99 ${f1(quantile(ingestMs, 0.99))} ms; ` +
        `POST → receipt p50 ${f1(quantile(sendToReceipt, 0.5))} ms, p99 ${f1(quantile(sendToReceipt, 0.99))} ms; duplicates ${latDupes}`,
    );

    // 6. correctness: every delivery recorded succeeded (the attempt.finished is durable), chain ok.
    console.log('\nCHECKS');
    const expected = new Set([...preloadIds, ...ackAt.keys()]);
    const open = async (status) => (await call('GET', `/v1/deliveries?status=${status}&limit=1`)).body.data?.length ?? -1;
    const settleDeadline = Date.now() + 30_000;
    while ((await open('delivering')) + (await open('pending')) > 0 && Date.now() < settleDeadline) await sleep(100);
    const succeeded = new Set();
    let cursor = null;
    let pages = 0;
    do {
      const r = await call('GET', `/v1/deliveries?status=succeeded&limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      if (r.status !== 200) throw new Error(`GET /v1/deliveries answered ${r.status}: ${JSON.stringify(r.body).slice(0, 300)}`);
      for (const d of r.body.data) succeeded.add(d.id);
      cursor = r.body.next_cursor;
      pages++;
    } while (cursor);
    const notSucceeded = [...expected].filter((id) => !succeeded.has(id));
    check(notSucceeded.length === 0, `ledger: ${notSucceeded.length} deliveries are not recorded as succeeded (e.g. ${notSucceeded.slice(0, 3).join(', ')})`);
    for (const status of ['pending', 'delivering', 'failed', 'dead']) {
      const n = await open(status);
      check(n === 0, `ledger: deliveries left in status ${status}`);
    }
    console.log(`  succeeded deliveries: ${f0(succeeded.size)} (${pages} pages of ≤500), expected ${f0(expected.size)}, not succeeded ${notSucceeded.length}`);
    const verify = await call('GET', '/v1/ledger/verify');
    check(verify.status === 200 && verify.body.ok === true, `ledger verify: ${verify.status} ${JSON.stringify(verify.body)}`);
    console.log(`  GET /v1/ledger/verify: ok=${verify.body.ok}, ${f0(verify.body.entries)} entries`);

    await agent.close();
    await stopHerald();

    console.log('\nSUMMARY');
    console.log(`  baseline (bare undici, ${MAX_CONCURRENT} concurrent): ${f0(base.rps)} requests/s`);
    console.log(`  herald (${ENDPOINTS} endpoints × ${MAX_PER_ENDPOINT}, global ${MAX_CONCURRENT}, ${f0(EVENTS)} events): ${f0(dps)} deliveries/s`);
    console.log(`  ratio: ${(ratio * 100).toFixed(1)}% (target ≥ 50%)`);
    console.log(
      `  latency at ${f0(RATE)}/s: p50 ${f1(quantile(latencies, 0.5))} ms, p99 ${f1(quantile(latencies, 0.99))} ms, ` +
        `max ${f1(latencies[latencies.length - 1])} ms (target p99 < 50 ms)`,
    );
    if (CPU_PROF) console.log(`  herald CPU profile written to ${CPU_PROF}`);
  } finally {
    await stopHerald().catch(() => {});
    receiver.child.disconnect();
    if (KEEP || failures.length > 0) console.log(`  (kept ${dir})`);
    else rmSync(dir, { recursive: true, force: true });
  }

  return checksVerdict(failures);
}

// Entry point (at the end, so every module-level constant above is initialised).
runBench(main, runReceiver);
