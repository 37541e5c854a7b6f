// The ledger: pages after a seq, the NDJSON export, /v1/ledger/verify, the append-only triggers, a
// tampered row caught by `herald ledger verify` and by the API, and no secret in the export.
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { GENESIS_HASH, entryHash } from '../../src/domain/ledger-entry.js';
import { endpointSchema, ledgerEntrySchema, verifySchema } from '../../src/http/schemas.js';
import { type ExportedEntry, createEndpoint, exportLedger, ingest, parseNdjson } from '../support/api.js';
import { runCli } from '../support/cli.js';
import { type TestHerald, finish, startTestHerald, trackFailures, useHerald } from '../support/herald.js';

const herald = useHerald();
const HOOK = 'http://127.0.0.1:9/hook';
const pageSchema = z.object({ data: z.array(ledgerEntrySchema), next_cursor: z.string().nullable() });

async function seed(n: number) {
  const h = herald();
  await createEndpoint(h, { channel: 'webhook', url: HOOK, events: ['ledger.*'] });
  for (let i = 0; i < n; i++) await ingest(h, { type: 'ledger.seed', data: { i } });
}

/** Every entry reachable through JSON pages of `limit`, following next_cursor. */
async function pages(limit: number, upTo: number): Promise<{ entries: ExportedEntry[]; pages: number }> {
  const h = herald();
  const entries: ExportedEntry[] = [];
  let after = '0';
  let n = 0;
  for (;;) {
    const r = await h.request('GET', `/v1/ledger?after=${after}&limit=${limit}`);
    expect(r.status).toBe(200);
    const page = pageSchema.parse(r.body);
    entries.push(...(page.data as ExportedEntry[]));
    n++;
    if (!page.next_cursor || entries.length >= upTo) break;
    expect(page.next_cursor).toBe(String(page.data[page.data.length - 1]!.seq));
    after = page.next_cursor;
  }
  return { entries, pages: n };
}

function expectChain(entries: ExportedEntry[]) {
  let prev = GENESIS_HASH;
  entries.forEach((e, i) => {
    expect(e.seq).toBe(i + 1);
    expect(e.prev_hash).toBe(prev);
    expect(e.hash).toBe(entryHash(prev, e));
    prev = e.hash;
  });
}

describe('GET /v1/ledger', () => {
  it('pages entries in order after a seq; each links to the previous one', async () => {
    await seed(12);
    const { entries, pages: n } = await pages(5, 1e9);
    expect(n).toBeGreaterThanOrEqual(4);
    expectChain(entries);
    const kinds = new Set(entries.map((e) => e.kind));
    for (const k of ['event.received', 'endpoint.created']) expect(kinds).toContain(k);
    const received = entries.filter((e) => e.kind === 'event.received' && (e.body.event as { type: string }).type === 'ledger.seed');
    expect(received.map((e) => (e.body.event as { data: { i: number } }).data.i)).toEqual([...Array(12).keys()]);
    expect(received.every((e) => e.actor === 'admin (HERALD_ADMIN_KEY)' && e.stream === (e.body.event as { id: string }).id)).toBe(true);

    // after=N starts at N+1
    const r = await herald().request('GET', '/v1/ledger?after=3&limit=2');
    expect(pageSchema.parse(r.body).data.map((e) => e.seq)).toEqual([4, 5]);
    const end = await herald().request('GET', `/v1/ledger?after=${1e9}`);
    expect(pageSchema.parse(end.body)).toEqual({ data: [], next_cursor: null });
  });

  it('exports NDJSON with Accept: application/x-ndjson: one entry per line, seqs contiguous, the same entries as the pages', async () => {
    const text = await exportLedger(herald());
    expect(text.endsWith('\n')).toBe(true);
    const lines = text.split('\n').slice(0, -1);
    expect(lines.every((l) => l.startsWith('{') && !l.includes('\n'))).toBe(true);
    const exported = lines.map((l) => ledgerEntrySchema.parse(JSON.parse(l)) as ExportedEntry);
    expectChain(exported);
    const { entries } = await pages(1000, exported.length);
    expect(exported).toEqual(entries.slice(0, exported.length));

    const after = await herald().request<string>('GET', '/v1/ledger?after=5', { headers: { accept: 'application/x-ndjson' } });
    expect(parseNdjson(after.body)[0]!.seq).toBe(6);
  });

  it('GET /v1/ledger/verify answers ok with the entry count and the head hash', async () => {
    const h = herald();
    const r = await h.request('GET', '/v1/ledger/verify', { key: await h.createKey('read') });
    expect(r.status).toBe(200);
    const v = verifySchema.parse(r.body);
    expect(v.ok).toBe(true);
    expect(v.entries).toBeGreaterThan(10);
    const { entries } = await pages(1000, v.entries);
    expect(v.head_hash).toBe(entries[v.entries - 1]!.hash);
  });

  it('the ledger table refuses UPDATE and DELETE, even opened directly', async () => {
    const h = herald();
    const db = new Database(h.dbPath);
    try {
      expect(() => db.prepare("UPDATE ledger SET actor = 'mallory' WHERE seq = 2").run()).toThrow(/append-only: UPDATE refused/);
      expect(() => db.prepare("UPDATE ledger SET body = '{}' WHERE seq = 2").run()).toThrow(/append-only/);
      expect(() => db.prepare('DELETE FROM ledger WHERE seq = 2').run()).toThrow(/append-only: DELETE refused/);
      expect(() => db.prepare('DELETE FROM ledger').run()).toThrow(/append-only/);
    } finally {
      db.close();
    }
    expect(verifySchema.parse((await h.request('GET', '/v1/ledger/verify')).body).ok).toBe(true);
  });
});

describe('tampering', () => {
  const failures = trackFailures();

  it('an edited body (triggers dropped) is named by `herald ledger verify` and by GET /v1/ledger/verify', async () => {
    let h = await startTestHerald();
    try {
      const events = [];
      for (let i = 0; i < 5; i++) events.push(await ingest(h, { type: 'invoice.paid', data: { amount: 100 + i } }));
      const clean = await runCli(['ledger', 'verify'], { HERALD_DB: h.dbPath });
      expect(clean.code).toBe(0);
      expect(JSON.parse(clean.stdout)).toMatchObject({ ok: true });
      await h.stop();

      const db = new Database(h.dbPath);
      let seq: number;
      try {
        const row = db.prepare("SELECT seq FROM ledger WHERE kind = 'event.received' AND stream = ?").get(events[2]!.id) as { seq: number };
        seq = row.seq;
        db.exec('DROP TRIGGER ledger_refuses_update; DROP TRIGGER ledger_refuses_delete;');
        const changed = db.prepare("UPDATE ledger SET body = replace(body, '\"amount\":102', '\"amount\":1') WHERE seq = ?").run(seq);
        expect(changed.changes).toBe(1);
        expect((db.prepare('SELECT body FROM ledger WHERE seq = ?').get(seq) as { body: string }).body).toContain('"amount":1}');
      } finally {
        db.close();
      }

      const broken = await runCli(['ledger', 'verify'], { HERALD_DB: h.dbPath });
      expect(broken.code).toBe(1);
      expect(JSON.parse(broken.stdout)).toMatchObject({ ok: false, first_broken_seq: seq, reason: 'hash_mismatch' });
      expect(broken.stderr).toContain(`seq ${seq}`);

      h = await h.restart();
      const r = await h.request('GET', '/v1/ledger/verify');
      expect(r.status).toBe(200);
      expect(verifySchema.parse(r.body)).toMatchObject({ ok: false, first_broken_seq: seq, reason: 'hash_mismatch', entries: seq - 1 });
    } finally {
      await finish(h, failures.failed);
    }
  });

  it('a deleted entry (triggers dropped) breaks the chain at the gap', async () => {
    const h = await startTestHerald();
    try {
      for (let i = 0; i < 3; i++) await ingest(h, { type: 'gap.x', data: { i } });
      await h.stop();
      const db = new Database(h.dbPath);
      const last = (db.prepare('SELECT max(seq) AS s FROM ledger').get() as { s: number }).s;
      db.exec('DROP TRIGGER ledger_refuses_delete;');
      db.prepare('DELETE FROM ledger WHERE seq = ?').run(last - 1);
      db.close();
      const r = await runCli(['ledger', 'verify'], { HERALD_DB: h.dbPath });
      expect(r.code).toBe(1);
      expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, first_broken_seq: last, reason: 'seq_gap' });
    } finally {
      await finish(h, failures.failed);
    }
  });
});

describe('secrets stay out of the ledger', () => {
  const failures = trackFailures();

  it('the NDJSON export and the database file hold no signing secret, header value, SMTP password or API key', async () => {
    const h = await startTestHerald();
    try {
      const headerValue = 'Bearer hdr-5ecret-7f3a9c';
      const smtpPassword = 'smtp-pa55-91bd2e';
      const webhook = await createEndpoint(h, { channel: 'webhook', url: HOOK, events: ['*'], headers: { Authorization: headerValue } });
      const email = await createEndpoint(h, { channel: 'email', to: ['ops@example.com'], events: ['*'], smtp_url: `smtp://mailer:${smtpPassword}@127.0.0.1:2525` });
      const patched = await h.request('PATCH', `/v1/endpoints/${webhook.id}`, { body: { headers: { Authorization: `${headerValue}-2`, 'X-Other': 'other-5ecret-value' } } });
      expect(patched.status).toBe(200);
      const rotated = z.object({ secret: z.string() }).parse((await h.request('POST', `/v1/endpoints/${webhook.id}/rotate-secret`)).body);
      const ownSecret = `whsec_${Buffer.alloc(32, 3).toString('base64')}`;
      const own = await createEndpoint(h, { channel: 'webhook', url: HOOK, events: ['*'], secret: ownSecret });
      const keys = [await h.createKey('ingest'), await h.createKey('read'), await h.createKey('admin')];
      await ingest(h, { type: 'secret.check', data: { n: 1 } }, keys[0]);
      expect(endpointSchema.parse(email).smtp_url).toContain('***');

      const secrets = [webhook.secret!, rotated.secret, own.secret!, headerValue, 'other-5ecret-value', smtpPassword, h.adminKey, ...keys];
      for (const s of secrets) expect(s.length).toBeGreaterThan(8);
      // the secrets really are in play: the API shows them to an admin
      expect(JSON.stringify((await h.request('GET', `/v1/endpoints/${webhook.id}/secret`)).body)).toContain(rotated.secret);

      const text = await exportLedger(h);
      const entries = parseNdjson(text);
      expect(entries.map((e) => e.kind)).toEqual(expect.arrayContaining(['endpoint.created', 'endpoint.updated', 'endpoint.secret_rotated', 'api_key.created', 'event.received']));
      for (const s of secrets) {
        expect(text, 'export').not.toContain(s);
        expect(text, 'export').not.toContain(Buffer.from(s).toString('base64'));
      }
      // the base64 part of a whsec_ secret is the key material; it must not appear either
      for (const s of [webhook.secret!, rotated.secret, own.secret!]) expect(text).not.toContain(s.slice(6));

      await h.stop();
      const files = readdirSync(h.dir).filter((f) => f.startsWith('herald.db') && !f.endsWith('.key'));
      const raw = files.map((f) => readFileSync(join(h.dir, f)).toString('latin1')).join('\n');
      expect(raw).toContain('secret.check'); // it is the right file
      for (const s of secrets) expect(raw, 'database file').not.toContain(s);
    } finally {
      await finish(h, failures.failed);
    }
  });
});

describe('a long NDJSON export', () => {
  const big = useHerald();

  /**
   * Reads the export in another process over a bare socket, doing nothing with it, so herald's writes
   * rarely wait for the reader; resolves the bytes read.
   */
  function exportElsewhere(h: TestHerald, started: () => void): Promise<number> {
    const { hostname, port } = new URL(h.url);
    const script = `
      const s = require('node:net').connect(${port}, '${hostname}', () => s.write('GET /v1/ledger HTTP/1.1\\r\\nHost: h\\r\\nConnection: close\\r\\n' +
        'Authorization: Bearer ' + process.argv[1] + '\\r\\nAccept: application/x-ndjson\\r\\n\\r\\n'));
      let bytes = 0;
      s.on('data', (d) => { if (bytes === 0) process.stdout.write('started\\n'); bytes += d.length; });
      s.on('end', () => process.stdout.write(bytes + '\\n'));`;
    const child = spawn(process.execPath, ['-e', script, h.adminKey]);
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      const before = out.includes('started');
      out += d.toString();
      if (!before && out.includes('started')) started();
    });
    return new Promise((resolve, reject) =>
      child.on('exit', (code) => (code === 0 ? resolve(Number(out.trim().split('\n').pop())) : reject(new Error(`export reader exited ${code}`)))),
    );
  }

  it('gives other requests their turn between its pages, even to a client that reads as fast as herald writes', { timeout: 60_000 }, async () => {
    const h = big();
    for (let b = 0; b < 20; b++) {
      const events = Array.from({ length: 1000 }, (_, i) => ({ idempotency_key: `big-${b}-${i}`, type: 'big.seed', data: { i, pad: 'x'.repeat(200) } }));
      expect((await h.request('POST', '/v1/events/batch', { body: { events } })).status).toBe(200);
    }
    const started = performance.now();
    let done = false;
    const bytes = exportElsewhere(h, () => {}).finally(() => (done = true));
    let slowest = 0;
    let answered = 0;
    while (!done) {
      const asked = performance.now();
      expect((await h.request('GET', '/healthz')).status).toBe(200);
      slowest = Math.max(slowest, performance.now() - asked);
      answered++;
    }
    const exportMs = performance.now() - started;
    expect(await bytes).toBeGreaterThan(20_000 * 300);
    // An export that never yields holds /healthz for most of its run (pages are not waited for by such
    // a reader); one that yields between pages holds it for one page. Compared with the export's own
    // time, so a slow machine does not decide.
    expect(answered).toBeGreaterThan(1);
    expect(slowest).toBeLessThan(exportMs / 4);
  });
});
