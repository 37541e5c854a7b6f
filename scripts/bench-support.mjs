// What both benchmarks share: a free loopback port, a process's CPU time, and herald (the compiled
// dist/) started as a child process on a fresh database with the default synchronous=FULL.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export function freePort() {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

/** CPU seconds (user+system) a process has used so far, from /proc (Linux); null elsewhere. */
export function procCpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime in clock ticks (USER_HZ = 100)
  } catch {
    return null;
  }
}

/**
 * `node bin/herald.js serve` on `dir`/herald.db with a fresh admin key, waiting until /readyz answers.
 * `env` adds settings; `cpuProfDir` runs it with --cpu-prof; `adminKey` and `port` replace the random
 * ones. stop() sends SIGTERM (SIGKILL after 30 s).
 */
export async function startHeraldProcess(dir, { env: extra = {}, cpuProfDir = null, adminKey: givenKey = null, port: givenPort = null } = {}) {
  const port = givenPort ?? (await freePort());
  const adminKey = givenKey ?? `bench_admin_${randomBytes(18).toString('base64url')}`;
  const env = {
    ...process.env,
    HERALD_DB: join(dir, 'herald.db'),
    HERALD_HOST: '127.0.0.1',
    HERALD_PORT: String(port),
    HERALD_ADMIN_KEY: adminKey,
    HERALD_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    HERALD_ALLOW_PRIVATE_NETWORKS: 'true',
    HERALD_LOG_LEVEL: 'warn',
    ...extra,
  };
  delete env.HERALD_CONFIG;
  delete env.HERALD_SYNCHRONOUS; // the default, FULL
  const nodeArgs = cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', cpuProfDir] : [];
  const child = spawn(process.execPath, [...nodeArgs, join(ROOT, 'bin/herald.js'), 'serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const prefix = (chunk) => process.stderr.write(String(chunk).replace(/^(?=.)/gm, '  [herald] '));
  child.stdout.on('data', prefix);
  child.stderr.on('data', prefix);
  const exited = new Promise((res) => child.once('exit', (code, signal) => res({ code, signal })));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`herald exited during start-up (${child.exitCode})`);
    try {
      const res = await fetch(`${url}/readyz`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('herald did not become ready within 20 s');
    await sleep(50);
  }
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    child.kill('SIGTERM');
    if (!(await Promise.race([exited, sleep(30_000).then(() => null)]))) {
      child.kill('SIGKILL');
      await exited;
    }
  };
  return { child, url, adminKey, exited, stop };
}

/**
 * In a forked child: an HTTP server on loopback that answers every request 200 `{}` once its body
 * is read, calls `onRequest(req)` as each arrives, and tells the parent its port ({ type: 'ready' }).
 */
export function serveOkReceiver(onRequest) {
  const server = http.createServer((req, res) => {
    // onRequest may return a promise: the answer waits for it (a receiver holding its answers).
    const wait = onRequest(req);
    const answer = () => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '2' });
      res.end('{}');
    };
    req.resume();
    req.on('end', () => (wait ? wait.then(answer) : answer()));
  });
  server.keepAliveTimeout = 65_000;
  server.listen(0, '127.0.0.1', () => process.send({ type: 'ready', port: server.address().port }));
  return server;
}

/** A response body as JSON when it is JSON, else the text. */
export function jsonOrText(text) {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Prints the failed correctness checks and returns 1, or says they all passed and returns 0. */
export function checksVerdict(failures) {
  if (failures.length > 0) {
    console.error('\nFAILED:');
    for (const f of failures) console.error(`  - ${f}`);
    return 1;
  }
  console.log('  correctness checks passed');
  return 0;
}

/**
 * A benchmark's entry point: in the forked child started with `--receiver`, `receiver()`; otherwise
 * `main()`, exiting with the code it resolves to. Call it at the end of the script, once every
 * module-level constant is initialised.
 */
export function runBench(main, receiver) {
  if (receiver && process.argv[2] === '--receiver') return receiver();
  main().then(
    (code) => process.exit(code),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}

/** Request/response with a forked child over its IPC channel (messages carry a `type` and a `seq`). */
export function ipc(child) {
  let seq = 0;
  const waiting = new Map();
  child.on('message', (m) => {
    const w = waiting.get(m.seq);
    if (w) {
      waiting.delete(m.seq);
      w(m);
    }
  });
  return (type) =>
    new Promise((res) => {
      const s = ++seq;
      waiting.set(s, res);
      child.send({ type, seq: s });
    });
}

/** Busy CPU seconds of the whole machine (all cores), from /proc/stat; null elsewhere. */
export function machineBusySeconds() {
  try {
    const [, ...f] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
    // user nice system idle iowait irq softirq steal
    return (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) / 100;
  } catch {
    return null;
  }
}
