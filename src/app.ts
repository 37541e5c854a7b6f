// Builds herald from its config: store, services, delivery engine and HTTP server; start() / stop().
import type { Config } from './config.js';
import { loadEncryptionKey } from './encryption-key.js';
import { createHttpApp } from './http/app.js';
import { ActivityService } from './services/activity.js';
import { type HttpServer, listen } from './http/server.js';
import { type Logger, createLogger } from './logger.js';
import { type Metrics, createMetrics } from './metrics.js';
import { ApiKeysService } from './services/api-keys.js';
import { EndpointCache } from './services/caches.js';
import type { ServiceContext } from './services/context.js';
import { DeliveriesService } from './services/deliveries.js';
import { EndpointsService } from './services/endpoints.js';
import { EventsService } from './services/events.js';
import { LedgerService } from './services/ledger.js';
import { readiness } from './services/readiness.js';
import { emitHeraldEvent } from './services/record-event.js';
import { RequeueJobs } from './services/requeue-jobs.js';
import { openStore } from './store/open.js';
import type { Store } from './store/store.js';
import { VERSION } from './version.js';
import { HttpThread } from './channels/http-thread.js';
import { createSenders } from './channels/senders.js';
import { validateTemplates } from './channels/templates.js';
import { AttemptRunner } from './engine/attempt.js';
import { batched } from './services/batcher.js';
import { Digests } from './engine/digests.js';
import { leaseDue } from './engine/lease.js';
import { Maintenance } from './engine/maintenance.js';
import { type FinishedAttempt, recordAttempts } from './engine/record.js';
import { Scheduler } from './engine/scheduler.js';
import type { LedgerEntry } from './domain/ledger-entry.js';

export interface HeraldOptions {
  log?: Logger;
  clock?: () => Date;
  /** Where the one-time bootstrap admin key is printed (stdout by default). */
  announce?: (line: string) => void;
}

export interface Herald {
  url: string;
  port: number;
  store: Store;
  log: Logger;
  stop(): Promise<void>;
}

export async function startHerald(config: Config, opts: HeraldOptions = {}): Promise<Herald> {
  const log = opts.log ?? createLogger(config.HERALD_LOG_LEVEL);
  const clock = opts.clock ?? (() => new Date());
  const announce = opts.announce ?? ((line: string) => process.stdout.write(`${line}\n`));
  const endpointCache = new EndpointCache();
  let apiKeys: ApiKeysService | undefined;
  let metrics: Metrics | undefined;
  let scheduler: Scheduler | undefined;
  let digests: Digests | undefined;
  // The one place caches are dropped: when a commit changed what they hold, or a transaction rolled back.
  const dropCaches = (entries?: readonly LedgerEntry[]) => {
    if (!entries || entries.some((e) => e.kind.startsWith('endpoint.'))) endpointCache.invalidate();
    if (!entries || entries.some((e) => e.kind.startsWith('api_key.'))) apiKeys?.invalidate();
  };
  // The HTTP thread loads while the store opens; herald starts only once it is up.
  const http = new HttpThread({ allowPrivateNetworks: config.HERALD_ALLOW_PRIVATE_NETWORKS, userAgent: `herald/${VERSION}` });
  const store = await openStore(config, {
    clock,
    onCommit: (entries, units) => {
      dropCaches(entries);
      metrics?.commitUnits.observe(units);
      if (metrics) {
        const byKind = new Map<string, number>();
        for (const e of entries) byKind.set(e.kind, (byKind.get(e.kind) ?? 0) + 1);
        for (const [kind, n] of byKind) metrics.ledgerEntries.inc({ kind }, n);
      }
      scheduler?.noteCommitted(entries);
      if (entries.some((e) => e.kind.startsWith('endpoint.'))) void digests?.sync().catch((err: unknown) => log.error({ err }, 'digest sync failed'));
    },
    onRollback: () => dropCaches(),
    // Units after an endpoint change would match events against the endpoint list its commit drops.
    endsTransaction: (e) => e.kind.startsWith('endpoint.'),
  }).catch(async (err: unknown) => {
    await http.close();
    throw err;
  });
  let secretKey: Buffer;
  try {
    const loaded = loadEncryptionKey(config, await store.read.endpoints.hasSealedValues());
    if (loaded.created) log.warn({ file: loaded.created }, 'created a new encryption key for secrets; back it up together with the database');
    secretKey = loaded.key;
    await http.started();
  } catch (err) {
    await http.close();
    await store.close();
    throw err;
  }
  metrics = createMetrics(() => store.read.deliveries.queueStats(clock()), clock);

  const ctx: ServiceContext = { store, config, clock, secretKey, endpoints: endpointCache, log, metrics };
  apiKeys = new ApiKeysService(ctx);
  const events = new EventsService(ctx);
  const endpoints = new EndpointsService(ctx, (channel, input) => validateTemplates(channel, input, config.HERALD_RENDER_LIMIT_MS));
  const deliveries = new DeliveriesService(ctx);
  const requeue = new RequeueJobs(ctx);

  const senders = createSenders(config, http, `herald/${VERSION}`);
  const record = batched((attempts: FinishedAttempt[]) => store.transact((tx) => recordAttempts(tx, ctx, attempts)));
  const attempts = new AttemptRunner(ctx, endpoints, senders, record);
  const runningScheduler = new Scheduler({
    due: store.read.deliveries,
    activeEndpoint: (id) => endpointCache.getActive(id, () => store.read.endpoints.activeEndpoints()),
    lease: async (requests) => attempts.withEvents(await store.transact((tx) => leaseDue(tx, ctx, requests, config.HERALD_LEASE_MARGIN_MS))),
    run: (leased, signal, sent) => attempts.run(leased, signal, sent),
    clock,
    log,
    maxConcurrent: config.HERALD_MAX_CONCURRENT_DELIVERIES,
    maxPerEndpoint: config.HERALD_MAX_PER_ENDPOINT,
  });
  scheduler = runningScheduler;
  const maintenance = new Maintenance(ctx, (id) => runningScheduler.holds(id));
  digests = new Digests(ctx);
  const digestJobs = digests;
  maintenance.onTick(() => digestJobs.sync());

  let accepting = true;
  const app = createHttpApp({
    config, log, metrics, version: VERSION, events, endpoints, deliveries, requeue, apiKeys,
    ledger: new LedgerService(ctx), activity: new ActivityService(ctx), clock, sessionSecret: secretKey,
    notReady: readiness(store, config.HERALD_DB), isAccepting: () => accepting,
  });
  // Listen before starting any work: a process that cannot serve stops whole, and a supervisor restarts it.
  let server: HttpServer;
  try {
    server = await listen(app.fetch, config, log);
  } catch (err) {
    await Promise.all(Object.values(senders).map((s) => s.close?.()));
    await http.close();
    await store.close();
    throw new Error(`cannot listen on ${config.HERALD_HOST}:${config.HERALD_PORT}: ${(err as Error).message}`);
  }
  const port = server.port;
  const url = `http://${config.HERALD_HOST.includes(':') ? `[${config.HERALD_HOST}]` : config.HERALD_HOST}:${port}`;

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      accepting = false;
      // A requeue job stops after its current chunk; the next start resumes it from the ledger.
      requeue.halt();
      deliveries.halt();
      maintenance.stop();
      digests?.stop();
      // Requests and attempts in flight end together, each within the grace; the store closes after both.
      await Promise.all([server.close(config.HERALD_SHUTDOWN_GRACE_MS), runningScheduler.stop(config.HERALD_SHUTDOWN_GRACE_MS)]);
      await deliveries.drain();
      await requeue.drain();
      await Promise.all(Object.values(senders).map((s) => s.close?.()));
      await http.close();
      await store.close();
      log.info('herald stopped');
    })());

  try {
    const bootstrapKey = await apiKeys.bootstrap();
    if (bootstrapKey) announce(`herald: created an admin API key (it is shown only this once): ${bootstrapKey}`);
    await store.transact((tx) => emitHeraldEvent(tx, ctx, 'herald.started', null, { version: VERSION }));
    maintenance.start();
    runningScheduler.start();
    // Jobs a stopped (or crashed) process left running go on from where their last chunk got to.
    await requeue.resume();
  } catch (err) {
    await stop();
    throw err;
  }
  log.info({ url, db: config.HERALD_DB, version: VERSION }, 'herald is listening');

  return { url, port, store, log, stop };
}
