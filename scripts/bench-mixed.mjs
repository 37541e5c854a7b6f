#!/usr/bin/env node
// Mixed-load soak benchmark (`node scripts/bench-mixed.mjs`, after `npm run build`), against the
// compiled herald in dist/ of the checkout this script lives in:
//   1. three webhook receivers in one child process (node:http on loopback): "fast" answers 200 at
//      once, "flaky" answers 500 to a random 20% of requests and 200 otherwise, "slow" answers 200
//      after 150 ms; each records the webhook-id and receive time of every request and counts
//      successful (2xx) receipts, and duplicates among them, per endpoint;
//   2. herald as a child process on a fresh temp database (synchronous=FULL, default limits; any
//      HERALD_* variable in the environment is passed through), three webhook endpoints (events
//      ["job.*"], retry {"schedule_s":[1,2,5,10]}) pointing at the receivers;
//   3. LOAD for BENCH_DURATION_S: single POST /v1/events at a steady BENCH_RATE (unique
//      Idempotency-Key, job.submitted/started/completed/failed events with ~300 bytes of data),
//      paced by a timer, over an undici keep-alive Pool; alongside, BENCH_READERS loops reading the
//      history at BENCH_READ_RATE in total (GET /v1/deliveries?limit=50 with status succeeded /
//      failed / dead / none, GET /v1/events?type=job.failed&limit=50, GET /v1/deliveries/{recent id});
//   4. every BENCH_REPORT_S one line: events acked, successful receipts per endpoint (interval and
//      cumulative), the backlog owed (acked × 3 − received successfully; and without the slow
//      endpoint), herald's RSS and CPU, ingest and read latency p50/p99 of the interval;
//   5. DRAIN: the load stops and herald gets up to BENCH_DRAIN_S to deliver the fast/flaky backlog
//      (deliveries that went dead — five failures in a row on "flaky", p = 0.2^5 — are never owed);
//   6. a summary, and correctness: every ingest answered 202 (naming 3 deliveries), no read answered
//      5xx or failed, GET /v1/ledger/verify is ok at the end.
// Timings and the "backlog bounded" verdict are printed, never asserted; the exit code is non-zero
// only when a correctness check fails.
//
// Knobs (environment): BENCH_DURATION_S (900), BENCH_RATE (300 events/s), BENCH_READERS (2),
// BENCH_READ_RATE (20 reads/s in total), BENCH_REPORT_S (10), BENCH_DRAIN_S (60),
// BENCH_KEEP=1 (keep the temp dir with the database).
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { ROOT, jsonOrText, procCpuSeconds, startHeraldProcess, checksVerdict, ipc, machineBusySeconds, runBench } from './bench-support.mjs';

const now = () => performance.timeOrigin + performance.now();
const RECEIVERS = ['fast', 'flaky', 'slow'];
const FLAKY_FAIL = 0.2;
const SLOW_MS = 150;
const RETRY = { schedule_s: [1, 2, 5, 10] };

// ---------------------------------------------------------------------------------------------
// The receivers (child process): three servers, one per endpoint

function runReceivers() {
  const stats = {};
  const servers = [];
  let ready = 0;
  const ports = {};
  for (const name of RECEIVERS) {
    // first successful (2xx) receipt per webhook-id; every request's id and receive time
    const st = { requests: 0, ok: 0, failed: 0, dupes: 0, plain: 0, firstOk: new Map(), ids: [], times: [] };
    stats[name] = st;
    const server = http.createServer((req, res) => {
      const t = now();
      const id = req.headers['webhook-id'];
      st.requests++;
      if (typeof id === 'string') {
        st.ids.push(id);
        st.times.push(t);
      } else st.plain++;
      req.resume();
      req.on('end', () => {
        const answer = (status) => {
          if (status === 200 && typeof id === 'string') {
            st.ok++;
            if (st.firstOk.has(id)) st.dupes++;
            else st.firstOk.set(id, t);
          } else if (status !== 200) st.failed++;
          const body = status === 200 ? '{}' : '{"error":"flaky"}';
          res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(body.length) });
          res.end(body);
        };
        if (name === 'flaky') answer(Math.random() < FLAKY_FAIL ? 500 : 200);
        else if (name === 'slow') setTimeout(() => answer(200), SLOW_MS);
        else answer(200);
      });
    });
    server.keepAliveTimeout = 65_000;
    server.listen(0, '127.0.0.1', () => {
      ports[name] = server.address().port;
      if (++ready === RECEIVERS.length) process.send({ type: 'ready', ports });
    });
    servers.push(server);
  }
  // Bounded memory for a long soak: the per-request log is trimmed to its last 100,000 entries.
  setInterval(() => {
    for (const st of Object.values(stats)) {
      if (st.ids.length > 200_000) {
        st.ids = st.ids.slice(-100_000);
        st.times = st.times.slice(-100_000);
      }
    }
  }, 5_000).unref();
  process.on('message', (m) => {
    if (m.type === 'stats') {
      const out = {};
      for (const [name, st] of Object.entries(stats)) {
        // ok = successful answers (duplicates included); unique = distinct webhook-ids answered 2xx
        out[name] = { requests: st.requests, ok: st.ok, unique: st.firstOk.size, failed: st.failed, dupes: st.dupes, plain: st.plain };
      }
      process.send({ type: 'stats', seq: m.seq, stats: out, cpu: process.cpuUsage() });
    }
  });
  process.on('disconnect', () => {
    for (const s of servers) s.closeAllConnections?.();
    process.exit(0);
  });
}

// ---------------------------------------------------------------------------------------------
// The bench (parent process)

const num = (name, dflt, { zero = false } = {}) => {
  const v = process.env[name];
  const n = v === undefined || v === '' ? dflt : Number(v);
  if (!Number.isFinite(n) || n < 0 || (!zero && n === 0)) throw new Error(`${name} must be a ${zero ? 'non-negative' : 'positive'} number`);
  return n;
};
const DURATION_S = num('BENCH_DURATION_S', 900);
const RATE = num('BENCH_RATE', 300);
const READERS = Math.floor(num('BENCH_READERS', 2, { zero: true }));
const READ_RATE = num('BENCH_READ_RATE', 20, { zero: true });
const REPORT_S = num('BENCH_REPORT_S', 10);
const DRAIN_S = num('BENCH_DRAIN_S', 60, { zero: true });
const KEEP = process.env.BENCH_KEEP === '1';
const INGEST_CONNECTIONS = 64;

const failures = [];
const check = (ok, what) => {
  if (!ok) failures.push(what);
  return ok;
};

function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}
const sorted = (a) => Float64Array.from(a).sort();
const f1 = (n) => (Number.isFinite(n) ? n.toFixed(1) : String(n));
const f0 = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : String(n));
const pq = (a) => {
  const s = sorted(a);
  return `p50 ${f1(quantile(s, 0.5))} p99 ${f1(quantile(s, 0.99))} ms`;
};

/** herald's resident set in MB, from /proc/<pid>/status (Linux); null elsewhere. */
function rssMb(pid) {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

const USERS = ['alice', 'bob', 'carol', 'dave', 'erin'];
const QUEUES = ['gpu-a100', 'gpu-h100', 'cpu-large', 'cpu-small'];

/** Event k of the stream: job floor(k/3) is submitted, started, then completed (7 in 8) or failed. */
function jobEvent(k, runId) {
  const j = Math.floor(k / 3);
  const phase = k % 3;
  const failed = phase === 2 && j % 8 === 5;
  const type = phase === 0 ? 'job.submitted' : phase === 1 ? 'job.started' : failed ? 'job.failed' : 'job.completed';
  const data = {
    job_id: `job-${runId}-${j}`,
    queue: QUEUES[j % QUEUES.length],
    state: type.slice(4),
    node: phase === 0 ? null : `node-${(j * 7) % 64}`,
    gpus: 1 << j % 4,
    image: 'registry.example.com/ml/train:2026.11.3',
    command: 'python train.py --config configs/run.yaml',
    runtime_s: phase === 2 ? 60 + (j % 7200) : null,
    exit_code: phase === 2 ? (failed ? 137 : 0) : null,
    url: `https://scheduler.example.com/jobs/${j}`,
    pad: '',
  };
  data.pad = 'x'.repeat(Math.max(0, 300 - JSON.stringify(data).length));
  return { type, subject: `job-${j}`, user: USERS[j % USERS.length], source: 'bench-mixed', data };
}

async function startReceivers() {
  const child = fork(fileURLToPath(import.meta.url), ['--receiver'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise((res) => child.once('exit', res));
  const ports = await new Promise((res, rej) => {
    child.once('message', (m) => (m.type === 'ready' ? res(m.ports) : rej(new Error('receivers did not start'))));
    child.once('exit', (code) => rej(new Error(`receivers exited (${code})`)));
  });
  return { child, ports, ask: ipc(child), exited };
}

async function main() {
  if (!existsSync(join(ROOT, 'dist/src/main.js'))) throw new Error(`${ROOT}/dist is missing: run \`npm run build\``);
  const undici = await import('undici');
  const runId = randomBytes(4).toString('hex');
  console.log(`bench-mixed: node ${process.version}, ${cpus().length} CPUs, herald from ${ROOT}`);
  console.log(
    `  ${DURATION_S} s at ${f0(RATE)} events/s (${f0(RATE * DURATION_S)} events × 3 endpoints), ` +
      `${READERS} readers at ${f0(READ_RATE)} reads/s in total, report every ${REPORT_S} s, drain up to ${DRAIN_S} s`,
  );

  const receiver = await startReceivers();
  const stats = async () => await receiver.ask('stats');
  const dir = mkdtempSync(join(tmpdir(), 'herald-bench-mixed-'));
  let herald = null;
  let ingestPool = null;
  let readPool = null;
  try {
    herald = await startHeraldProcess(dir);
    const pid = herald.child.pid;
    const { origin } = new URL(herald.url);
    ingestPool = new undici.Pool(origin, { connections: INGEST_CONNECTIONS, keepAliveTimeout: 10_000 });
    readPool = new undici.Pool(origin, { connections: READERS + 2, keepAliveTimeout: 10_000 });
    const auth = { authorization: `Bearer ${herald.adminKey}` };
    const call = async (method, path, body, opts = {}) => {
      const headers = { ...auth };
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await readPool.request({ path, method, headers, body: body === undefined ? undefined : JSON.stringify(body), ...opts });
      const text = await res.body.text();
      return { status: res.statusCode, body: jsonOrText(text) };
    };

    console.log(`  herald pid ${pid} on ${herald.url}, db ${join(dir, 'herald.db')}; receivers (one child process, pid ${receiver.child.pid}):`);
    const endpointIds = {};
    for (const name of RECEIVERS) {
      const url = `http://127.0.0.1:${receiver.ports[name]}/hook/${name}`;
      const r = await call('POST', '/v1/endpoints', { channel: 'webhook', url, events: ['job.*'], retry: RETRY, description: `bench-mixed ${name}` });
      if (r.status !== 201 && r.status !== 200) throw new Error(`creating endpoint ${name} answered ${r.status}: ${JSON.stringify(r.body)}`);
      endpointIds[name] = r.body.id;
      console.log(`    ${name.padEnd(5)} ${url} → ${r.body.id}`);
    }

    // ----- the load -----------------------------------------------------------------------------
    const total = Math.round(RATE * DURATION_S);
    let sent = 0;
    let acked = 0;
    let deliveriesNamed = 0;
    let inFlight = 0;
    let maxInFlight = 0;
    let maxBehind = 0;
    let ingestErrors = 0;
    let ingestNetErrors = 0;
    const ingestStatuses = new Map();
    const ingestAll = [];
    let ingestIv = [];
    const recentIds = new Array(1000);
    let recentN = 0;
    const pending = new Set();
    let stopLoad = false;

    const fire = (k) => {
      const body = JSON.stringify(jobEvent(k, runId));
      const t0 = now();
      inFlight++;
      if (inFlight > maxInFlight) maxInFlight = inFlight;
      const p = ingestPool
        .request({
          path: '/v1/events',
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/json', 'idempotency-key': `mixed-${runId}-${k}` },
          body,
        })
        .then(async (res) => {
          const t1 = now();
          const text = await res.body.text();
          ingestStatuses.set(res.statusCode, (ingestStatuses.get(res.statusCode) ?? 0) + 1);
          if (res.statusCode !== 202) {
            ingestErrors++;
            if (ingestErrors <= 3) console.error(`  ingest answered ${res.statusCode}: ${text.slice(0, 300)}`);
            return;
          }
          const deliveries = JSON.parse(text).deliveries ?? [];
          acked++;
          ingestAll.push(t1 - t0);
          ingestIv.push(t1 - t0);
          deliveriesNamed += deliveries.length;
          for (const d of deliveries) recentIds[recentN++ % recentIds.length] = d.id;
        })
        .catch((err) => {
          ingestErrors++;
          ingestNetErrors++;
          if (ingestErrors <= 3) console.error(`  ingest failed: ${err.message}`);
        })
        .finally(() => {
          inFlight--;
          pending.delete(p);
        });
      pending.add(p);
    };

    // readers
    const READ_KINDS = ['deliveries', 'deliveries?status=succeeded', 'deliveries?status=failed', 'deliveries?status=dead', 'events?type=job.failed', 'delivery'];
    const readAll = [];
    let readIv = [];
    const readByKind = new Map(READ_KINDS.map((k) => [k, []]));
    const readStatuses = new Map();
    let read5xx = 0;
    let readErrors = 0;
    let readOther = 0;
    const reader = async (r) => {
      if (READ_RATE <= 0) return;
      const interval = (1000 * READERS) / READ_RATE;
      let next = now() + (interval * r) / READERS;
      let i = r;
      while (!stopLoad) {
        const wait = next - now();
        if (wait > 0) await sleep(wait);
        else if (wait < -interval) next = now(); // behind: do not burst to catch up
        next += interval;
        if (stopLoad) break;
        const kind = READ_KINDS[i++ % READ_KINDS.length];
        let path;
        if (kind === 'delivery') {
          if (recentN === 0) continue;
          const n = Math.min(recentN, recentIds.length);
          path = `/v1/deliveries/${recentIds[(recentN - 1 - Math.floor(Math.random() * n) + recentIds.length * 2) % recentIds.length]}`;
        } else {
          path = `/v1/${kind}${kind.includes('?') ? '&' : '?'}limit=50`;
        }
        const t0 = now();
        try {
          const res = await readPool.request({ path, method: 'GET', headers: auth });
          const text = await res.body.text();
          const ms = now() - t0;
          readStatuses.set(res.statusCode, (readStatuses.get(res.statusCode) ?? 0) + 1);
          if (res.statusCode >= 500) {
            read5xx++;
            if (read5xx <= 3) console.error(`  GET ${path} answered ${res.statusCode}: ${text.slice(0, 300)}`);
          } else if (res.statusCode !== 200) {
            readOther++;
            if (readOther <= 3) console.error(`  GET ${path} answered ${res.statusCode}: ${text.slice(0, 300)}`);
          }
          readAll.push(ms);
          readIv.push(ms);
          readByKind.get(kind).push(ms);
        } catch (err) {
          readErrors++;
          if (readErrors <= 3) console.error(`  GET ${path} failed: ${err.message}`);
        }
      }
    };

    // reporter
    const rss = [];
    const sampleRss = () => {
      const v = rssMb(pid);
      if (v !== null) rss.push(v);
      return v;
    };
    const owed = (s, ackedNow) => {
      const got = RECEIVERS.reduce((a, n) => a + s[n].unique, 0);
      return { all: ackedNow * 3 - got, noSlow: ackedNow * 2 - s.fast.unique - s.flaky.unique };
    };
    let lastReport = null;
    let prevStats = (await stats()).stats;
    let prevCpu = procCpuSeconds(pid);
    let prevT = now();
    const report = async (tLoad0) => {
      const m = await stats();
      const s = m.stats;
      const ackedNow = acked;
      const t = now();
      const cpu = procCpuSeconds(pid);
      const cpuPct = cpu === null || prevCpu === null ? NaN : ((cpu - prevCpu) / ((t - prevT) / 1000)) * 100;
      const r = sampleRss();
      const o = owed(s, ackedNow);
      const per = RECEIVERS.map((n) => `${n} +${f0(s[n].unique - prevStats[n].unique)} (${f0(s[n].unique)})`).join(' ');
      console.log(
        `  [${String(Math.round((t - tLoad0) / 1000)).padStart(4)} s] acked ${f0(ackedNow)} | ${per} | ` +
          `owed ${f0(o.all)} (w/o slow ${f0(o.noSlow)}) | RSS ${r === null ? 'n/a' : f0(r)} MB, CPU ${f0(cpuPct)}% | ` +
          `ingest ${pq(ingestIv)} (n=${f0(ingestIv.length)}) | read ${pq(readIv)} (n=${readIv.length})`,
      );
      ingestIv = [];
      readIv = [];
      prevStats = s;
      prevCpu = cpu;
      prevT = t;
      lastReport = { owed: o };
    };

    console.log(`\nLOAD (report every ${REPORT_S} s; receipts count distinct webhook-ids answered 2xx; CPU: 100% = one core)`);
    const loadCpu0 = { herald: procCpuSeconds(pid), bench: process.cpuUsage(), receiver: (await stats()).cpu, machine: machineBusySeconds() };
    const tLoad0 = now();
    prevT = tLoad0;
    prevCpu = loadCpu0.herald;
    const readers = Array.from({ length: READERS }, (_, r) => reader(r));
    let reporting = Promise.resolve();
    let nextReport = tLoad0 + REPORT_S * 1000;
    const rssTimer = setInterval(sampleRss, 1000);
    let heraldDied = false;
    while (sent < total) {
      if (herald.child.exitCode !== null || herald.child.signalCode !== null) {
        heraldDied = true;
        console.error(`  herald exited (${herald.child.exitCode ?? herald.child.signalCode}); stopping the load`);
        break;
      }
      const t = now();
      const due = Math.min(total, Math.floor(((t - tLoad0) * RATE) / 1000) + 1);
      maxBehind = Math.max(maxBehind, due - sent);
      while (sent < due) fire(sent++);
      if (t >= nextReport) {
        nextReport += REPORT_S * 1000;
        reporting = reporting.then(() => report(tLoad0));
      }
      await sleep(1);
    }
    const tLoadSent = now();
    stopLoad = true;
    await Promise.all(pending);
    await Promise.all(readers);
    await reporting;
    // the last (partial) interval, once every ingest has its answer: the "at the last report" figures
    if (now() - prevT > 500) await report(tLoad0);
    const tLoad1 = now();
    const loadS = (tLoad1 - tLoad0) / 1000;
    const endStats = await stats();
    const loadCpu1 = { herald: procCpuSeconds(pid), bench: process.cpuUsage(), receiver: endStats.cpu, machine: machineBusySeconds() };
    const ackedEnd = acked;
    const owedEnd = owed(endStats.stats, ackedEnd);
    check(!heraldDied, 'herald exited during the load');
    check(ingestErrors === 0 && acked === sent, `ingest: ${ingestErrors} of ${sent} did not answer 202 (${[...ingestStatuses].map(([k, v]) => `${k}×${v}`).join(', ')})`);
    check(deliveriesNamed === acked * 3, `ingest: the 202s named ${deliveriesNamed} deliveries, expected 3 per event (${acked * 3})`);
    check(read5xx === 0, `reads: ${read5xx} answered 5xx`);
    check(readErrors === 0, `reads: ${readErrors} failed without an answer`);
    console.log(
      `  load over: ${f0(sent)} sent in ${((tLoadSent - tLoad0) / 1000).toFixed(1)} s (${f0(sent / ((tLoadSent - tLoad0) / 1000))}/s, ` +
        `at most ${maxBehind} per timer tick, at most ${maxInFlight} in flight), all answered after ${loadS.toFixed(1)} s`,
    );

    // ----- drain --------------------------------------------------------------------------------
    const countStatus = async (endpointId, status) => {
      let n = 0;
      let cursor = null;
      do {
        const r = await call('GET', `/v1/deliveries?endpoint_id=${endpointId}&status=${status}&limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        if (r.status !== 200) throw new Error(`GET /v1/deliveries answered ${r.status}: ${JSON.stringify(r.body).slice(0, 300)}`);
        n += r.body.data.length;
        cursor = r.body.next_cursor;
      } while (cursor);
      return n;
    };
    const deadNow = async () => {
      const d = {};
      for (const n of RECEIVERS) d[n] = await countStatus(endpointIds[n], 'dead');
      return d;
    };
    const deadEnd = await deadNow();
    console.log(`\nDRAIN (up to ${DRAIN_S} s for the fast/flaky backlog: ${f0(owedEnd.noSlow)} owed, of which dead ${f0(deadEnd.fast + deadEnd.flaky)})`);
    const tDrain0 = now();
    let drained = null;
    let dead = deadEnd;
    let drainStats = endStats.stats;
    let lastDeadCheck = 0;
    for (;;) {
      drainStats = (await stats()).stats;
      const o = owed(drainStats, ackedEnd);
      if (now() - lastDeadCheck > 2000 || o.noSlow <= dead.fast + dead.flaky) {
        dead = await deadNow();
        lastDeadCheck = now();
      }
      if (o.noSlow - dead.fast - dead.flaky <= 0) {
        drained = (now() - tDrain0) / 1000;
        break;
      }
      if (now() - tDrain0 >= DRAIN_S * 1000) break;
      await sleep(250);
    }
    const tDrain1 = now();
    clearInterval(rssTimer);
    sampleRss();
    const owedDrain = owed(drainStats, ackedEnd);
    console.log(
      drained !== null
        ? `  fast/flaky backlog delivered ${drained.toFixed(1)} s after the load (dead deliveries excepted)`
        : `  fast/flaky backlog NOT drained within ${DRAIN_S} s: ${f0(owedDrain.noSlow - dead.fast - dead.flaky)} still owed (dead excepted)`,
    );

    // ----- checks -------------------------------------------------------------------------------
    console.log('\nCHECKS');
    const verify = await call('GET', '/v1/ledger/verify', undefined, { headersTimeout: 600_000, bodyTimeout: 600_000 });
    check(verify.status === 200 && verify.body.ok === true, `ledger verify: ${verify.status} ${JSON.stringify(verify.body).slice(0, 300)}`);
    console.log(`  GET /v1/ledger/verify: ${verify.status} ok=${verify.body.ok}, ${f0(verify.body.entries)} entries`);
    console.log(`  ingest answers: ${[...ingestStatuses].map(([k, v]) => `${k}×${f0(v)}`).join(', ') || 'none'}; failed without an answer ${ingestNetErrors}`);
    console.log(`  read answers: ${[...readStatuses].map(([k, v]) => `${k}×${f0(v)}`).join(', ') || 'none'}; failed without an answer ${readErrors}`);

    await ingestPool.close();
    await readPool.close();
    ingestPool = readPool = null;
    await herald.stop();

    // ----- summary ------------------------------------------------------------------------------
    const fin = drainStats;
    const ingSorted = sorted(ingestAll);
    const readSorted = sorted(readAll);
    const cpuPct = (a, b) => (a === null || b === null ? 'n/a' : `${Math.round(((b - a) / loadS) * 100)}%`);
    const u = (x, y) => (y.user + y.system - x.user - x.system) / 1e6;
    const heraldCpuS = loadCpu1.herald === null || loadCpu0.herald === null ? null : loadCpu1.herald - loadCpu0.herald;
    const machineS = loadCpu1.machine === null || loadCpu0.machine === null ? null : loadCpu1.machine - loadCpu0.machine;
    const benchS = u(loadCpu0.bench, loadCpu1.bench);
    const recvS = u(loadCpu0.receiver, loadCpu1.receiver);
    const otherS = machineS === null || heraldCpuS === null ? null : Math.max(0, machineS - heraldCpuS - benchS - recvS);
    const verdict = lastReport === null ? 'n/a (no report)' : lastReport.owed.noSlow < RATE * 10 ? 'yes' : 'NO';

    console.log('\nSUMMARY');
    console.log(
      `  load: ${f0(loadS)} s, ${f0(sent)} events sent, ${f0(acked)} acked (202), ${f0(deliveriesNamed)} deliveries named; ` +
        `${f0(readAll.length)} reads (${f1(readAll.length / loadS)}/s)`,
    );
    console.log(`  ingest POST → 202: p50 ${f1(quantile(ingSorted, 0.5))} ms, p99 ${f1(quantile(ingSorted, 0.99))} ms, max ${f1(ingSorted[ingSorted.length - 1])} ms`);
    console.log(`  reads: p50 ${f1(quantile(readSorted, 0.5))} ms, p99 ${f1(quantile(readSorted, 0.99))} ms, max ${f1(readSorted[readSorted.length - 1])} ms`);
    for (const [k, v] of readByKind) console.log(`    GET ${k.padEnd(27)} ${pq(v)} (n=${v.length})`);
    for (const n of RECEIVERS) {
      const st = fin[n];
      const during = endStats.stats[n].unique;
      console.log(
        `  ${n.padEnd(5)}: ${f0(during / loadS)} deliveries/s during the load (${f0(during)}), ${f0(st.unique)} after the drain ` +
          `(${f0(st.unique / ((tDrain1 - tLoad0) / 1000))}/s over load + drain); requests ${f0(st.requests)}, answered non-2xx ${f0(st.failed)}, ` +
          `duplicate 2xx receipts ${st.dupes}, dead ${dead[n]}`,
      );
    }
    console.log(
      `  backlog owed (acked × 3 − received): end of load ${f0(owedEnd.all)} (w/o slow ${f0(owedEnd.noSlow)}), ` +
        `after drain ${f0(owedDrain.all)} (w/o slow ${f0(owedDrain.noSlow)}; dead fast+flaky ${dead.fast + dead.flaky})`,
    );
    if (rss.length > 0) console.log(`  herald RSS: min ${f0(Math.min(...rss))} MB, max ${f0(Math.max(...rss))} MB, last ${f0(rss[rss.length - 1])} MB`);
    console.log(
      `  CPU over the load (100% = one core): herald ${cpuPct(loadCpu0.herald, loadCpu1.herald)}, receivers ${Math.round((recvS / loadS) * 100)}%, ` +
        `bench client ${Math.round((benchS / loadS) * 100)}%, other processes ${otherS === null ? 'n/a' : `${Math.round((otherS / loadS) * 100)}%`}`,
    );
    console.log(
      `  backlog bounded (w/o slow at the last report ${lastReport ? f0(lastReport.owed.noSlow) : 'n/a'} < ${f0(RATE * 10)}): ${verdict}`,
    );
  } finally {
    await ingestPool?.close().catch(() => {});
    await readPool?.close().catch(() => {});
    await herald?.stop().catch(() => {});
    if (receiver.child.connected) receiver.child.disconnect();
    await Promise.race([receiver.exited, sleep(5_000)]);
    if (receiver.child.exitCode === null && receiver.child.signalCode === null) receiver.child.kill('SIGKILL');
    if (KEEP || failures.length > 0) console.log(`  (kept ${dir})`);
    else rmSync(dir, { recursive: true, force: true });
  }

  return checksVerdict(failures);
}

// Entry point (at the end, so every module-level constant above is initialised).
runBench(main, runReceivers);
