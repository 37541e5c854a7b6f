// `npm run demo` end to end, briefly: the script starts herald (the compiled dist/, which `npm test`
// builds first), its receiver and SMTP sink, streams events, redelivers one delivery, then stops by
// itself, cleans up, and reports what the receiver verified.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { REPO_ROOT } from '../support/cli.js';

function runDemo(env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HERALD_') && !k.startsWith('DEMO_')));
  const child = spawn(process.execPath, [join(REPO_ROOT, 'scripts', 'demo.mjs')], { cwd: REPO_ROOT, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, out })));
}

it('streams events that reach the receiver signed and the SMTP sink, redelivers one, and cleans up', async () => {
  if (!existsSync(join(REPO_ROOT, 'dist', 'src', 'main.js'))) throw new Error('dist/ is missing: run `npm run build` (npm test does it) first');
  const { code, out } = await runDemo({ DEMO_SECONDS: '6', DEMO_RATE: '8', DEMO_REDELIVER_AFTER_S: '3' });

  expect(code, out).toBe(0);
  expect(out).toMatch(/console {2,}http:\/\/127\.0\.0\.1:\d+\/console/);
  expect(out).toMatch(/API docs {2,}http:\/\/127\.0\.0\.1:\d+\/docs/);
  expect(out).toMatch(/admin key {2,}demo_admin_\S{16,}/);

  const summary = /^demo: (\d+) events, (\d+) webhooks verified, (\d+) rejected signatures, (\d+) emails, (\d+) redeliveries$/m.exec(out);
  expect(summary, out).not.toBeNull();
  const [events, verified, rejected, emails, redeliveries] = summary!.slice(1).map(Number);
  expect(events).toBeGreaterThanOrEqual(10);
  expect(verified).toBeGreaterThanOrEqual(5);
  expect(rejected).toBe(0);
  expect(emails).toBeGreaterThanOrEqual(1); // the third event finishes job-1002 as failed
  expect(redeliveries).toBe(1);
  expect(out).toMatch(/redelivery of msg_\w+: succeeded \(attempt \d+, trigger redelivery/);

  const db = /database {2,}(\S+)/.exec(out)![1]!;
  expect(existsSync(db), 'the temporary database is deleted').toBe(false);
}, 60_000);
