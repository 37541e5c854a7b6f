// `npm run demo`: herald (the compiled dist/) on a throwaway database, with a webhook receiver that
// verifies signatures and fails now and then, and an SMTP sink, all on 127.0.0.1; a stream of job
// events; one redelivery by hand. Retries, dead deliveries and the redelivery show in the console
// within a minute. Runs until Ctrl-C, then stops herald and deletes the database.
//
// Knobs (environment): DEMO_SECONDS=N stop by itself after N s (tests), DEMO_RATE events per second
// (default 3), DEMO_REDELIVER_AFTER_S when the archive receiver comes back and one of its deliveries is
// redelivered (default 20), HERALD_PORT herald's port (default: a free one).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startHeraldProcess } from './bench-support.mjs';
import { jobStream } from './demo-jobs.mjs';
import { startSmtpSink, startWebhookReceiver } from './demo-peers.mjs';

const SECONDS = Number(process.env.DEMO_SECONDS ?? 0);
const RATE = Number(process.env.DEMO_RATE ?? 3);
const REDELIVER_AFTER_S = Number(process.env.DEMO_REDELIVER_AFTER_S ?? 20);
const PORT = process.env.HERALD_PORT ? Number(process.env.HERALD_PORT) : null;
// Short, so that a failing delivery is retried within seconds and goes dead within 20 s.
const RETRY = { schedule_s: [2, 5, 10] };

let started = Date.now(); // reset once set-up is done, so times match the knobs
const elapsed = () => `${String(Math.round((Date.now() - started) / 1000)).padStart(3)} s`;
const say = (line) => console.log(`[${elapsed()}] ${line}`);

/** The scheduler dashboard: 20% 500s, 3% 422s (final at once: dead), 10% slow, 4% slower than herald waits. */
function flaky() {
  const r = Math.random();
  if (r < 0.2) return { status: 500, body: '{"error":"worker pool exhausted"}' };
  if (r < 0.23) return { status: 422, body: '{"error":"unknown queue"}' };
  if (r < 0.27) return { status: 204, delayMs: 2500 }; // the endpoint's timeout is 2 s
  if (r < 0.37) return { status: 204, delayMs: 300 + Math.random() * 900 };
  return { status: 204 };
}

/** Resolves on Ctrl-C or SIGTERM. Listening from the start, so a Ctrl-C during set-up still cleans up. */
function stopSignal() {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve('interrupted'));
    process.once('SIGTERM', () => resolve('terminated'));
  });
}

async function main() {
  const stopRequested = stopSignal();
  const dir = mkdtempSync(join(tmpdir(), 'herald-demo-'));
  const peers = [];
  let herald = null;
  let result;
  try {
    const receiver = await startWebhookReceiver({ onRejected: (path, err) => say(`receiver: REJECTED a request to ${path}: ${err.message}`) });
    peers.push(receiver);
    const smtp = await startSmtpSink({ onMail: (m) => say(`email to ${m.to.join(', ')}: ${m.subject}`) });
    peers.push(smtp);
    const adminKey = `demo_admin_${randomBytes(18).toString('base64url')}`;
    herald = await startHeraldProcess(dir, { adminKey, port: PORT, env: { HERALD_SHUTDOWN_GRACE_MS: '3000' } });
    const heraldDied = herald.exited.then(({ code, signal }) => `herald exited unexpectedly (${signal ?? code})`);
    const counts = await run({ herald, adminKey, receiver, smtp, dir, stop: Promise.race([stopRequested, heraldDied]) });
    result = { ...counts, verified: receiver.stats.verified, rejected: receiver.stats.rejected, emails: smtp.stats.emails };
  } finally {
    await herald?.stop();
    await Promise.all(peers.map((p) => p.close()));
    rmSync(dir, { recursive: true, force: true });
  }
  const r = result;
  console.log(`demo: ${r.events} events, ${r.verified} webhooks verified, ${r.rejected} rejected signatures, ${r.emails} emails, ${r.redeliveries} redeliveries`);
  return r.rejected === 0 && r.postErrors === 0 && !r.why.startsWith('herald exited') ? 0 : 1;
}

/** Creates the endpoints, streams events and redelivers one, until `stop` resolves; answers the counts. */
async function run({ herald, adminKey, receiver, smtp, dir, stop }) {
  const counts = { events: 0, postErrors: 0, redeliveries: 0, why: '' };
  let archiveUp = false;
  let stopping = false;

  const api = async (method, path, body, headers = {}) => {
    const res = await fetch(herald.url + path, {
      method,
      headers: { authorization: `Bearer ${adminKey}`, ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    if (!res.ok) throw Object.assign(new Error(`${method} ${path} answered ${res.status}: ${text}`), { status: res.status });
    return text ? JSON.parse(text) : null;
  };

  // the endpoints, created through the API like an operator would; each webhook's secret comes back once
  const endpoints = new Map();
  const webhook = async (name, path, answer, spec) => {
    const ep = await api('POST', '/v1/endpoints', { channel: 'webhook', url: receiver.route(path, answer), retry: RETRY, description: name, ...spec });
    receiver.secret(path, ep.secret);
    endpoints.set(ep.id, name);
    return ep;
  };
  await webhook('scheduler dashboard (flaky)', '/hooks/jobs', flaky, { events: ['job.*'], timeout_ms: 2000 });
  const archive = await webhook('archive (down at first)', '/hooks/archive', () => (archiveUp ? { status: 204 } : { status: 503, body: '{"error":"deploying"}' }), {
    events: ['job.completed', 'job.failed', 'job.timed_out'],
  });
  const mail = await api('POST', '/v1/endpoints', {
    channel: 'email', to: ['oncall@example.com'], from: 'herald demo <herald@demo.example>', smtp_url: smtp.url,
    events: ['job.failed', 'job.timed_out'], retry: RETRY, description: 'on-call email',
  });
  endpoints.set(mail.id, 'on-call email');

  console.log(`
herald demo: herald, a webhook receiver and an SMTP sink on 127.0.0.1, ${RATE} job events a second

  console      ${herald.url}/console
  API docs     ${herald.url}/docs
  admin key    ${adminKey}
  database     ${join(dir, 'herald.db')} (deleted on exit)

  webhooks     ${receiver.url}/hooks/jobs (job.*: fails 20% of the time, sometimes slow; retries after 2, 5, 10 s)
               ${receiver.url}/hooks/archive (finished jobs: down until ${REDELIVER_AFTER_S} s, so its first deliveries go dead)
  email        ${smtp.url} (job.failed, job.timed_out → oncall@example.com)

  try:  curl -s "${herald.url}/v1/deliveries?status=dead" -H "Authorization: Bearer ${adminKey}"
  Ctrl-C stops herald and deletes the database.
`);

  started = Date.now();
  const stream = jobStream();
  const post = async () => {
    const { idempotencyKey, ...event } = stream.next();
    try {
      await api('POST', '/v1/events', event, { 'idempotency-key': idempotencyKey });
      counts.events++;
    } catch (err) {
      if (stopping) return; // Ctrl-C reaches herald too; it may already be shutting down
      counts.postErrors++;
      say(`posting ${event.type} failed: ${err.message}`);
    }
  };
  const streaming = (async () => {
    while (!stopping) {
      await post();
      await sleep(1000 / RATE);
    }
  })();

  // dead deliveries are announced as they appear
  const seenDead = new Set();
  const watchDead = async () => {
    const dead = await api('GET', '/v1/deliveries?status=dead&limit=500');
    for (const d of dead.data.reverse()) {
      if (seenDead.has(d.id)) continue;
      seenDead.add(d.id);
      say(`dead: ${d.id} to ${endpoints.get(d.endpoint_id) ?? d.endpoint_id} after ${d.attempt_count} attempt(s)`);
    }
  };
  const status = setInterval(() => {
    if (stopping) return;
    const a = receiver.stats.answered;
    say(`${counts.events} events · receiver: ${receiver.stats.verified} signatures verified, ${receiver.stats.rejected} rejected, answered ${Object.entries(a).map(([s, n]) => `${s}×${n}`).join(' ')} · ${smtp.stats.emails} emails`);
    watchDead().catch((err) => stopping || say(`listing dead deliveries failed: ${err.message}`));
  }, 5000);

  // the archive comes back; an operator redelivers one of the deliveries it missed, with a reason
  const findMissed = async () => {
    for (const status of ['dead', 'failed']) {
      const page = await api('GET', `/v1/deliveries?endpoint_id=${archive.id}&status=${status}&limit=1`);
      if (page.data[0]) return page.data[0];
    }
    return null;
  };
  const redeliver = async () => {
    archiveUp = true;
    say('archive receiver is back up');
    let target = null;
    for (let i = 0; i < 20 && !target && !stopping; i++) {
      target = await findMissed();
      try {
        if (target) await api('POST', `/v1/deliveries/${target.id}/redeliver`, { reason: 'demo: the archive receiver is back up' });
      } catch (err) {
        if (err.status !== 409) throw err;
        target = null; // an attempt of it is in flight right now: take another
      }
      if (!target) await sleep(500);
    }
    if (!target || stopping) return;
    counts.redeliveries++;
    say(`redelivered ${target.id} (it was ${target.status} after ${target.attempt_count} attempt(s))`);
    for (let i = 0; i < 40 && !stopping; i++) {
      const d = await api('GET', `/v1/deliveries/${target.id}`);
      const last = d.attempts.at(-1);
      if (last?.trigger === 'redelivery' && last.outcome) {
        say(`redelivery of ${d.id}: ${last.outcome} (attempt ${last.n}, trigger ${last.trigger}, actor ${last.actor}); its attempt timeline is in the console`);
        return;
      }
      await sleep(250);
    }
  };
  const redelivery = setTimeout(() => redeliver().catch((err) => stopping || say(`redelivery failed: ${err.message}`)), REDELIVER_AFTER_S * 1000);

  // DEMO_SECONDS counts from here, so a slow start does not eat into it
  const timeUp = SECONDS > 0 ? sleep(SECONDS * 1000, `${SECONDS} s are up`) : new Promise(() => {});
  counts.why = await Promise.race([stop, timeUp]);
  stopping = true;
  clearInterval(status);
  clearTimeout(redelivery);
  console.log(`\n[${elapsed()}] stopping: ${counts.why}`);
  await streaming;
  return counts;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
