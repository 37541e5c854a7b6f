// Builds herald from its config: store, services, delivery engine and HTTP server; start() / stop().
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import type { Config } from './config.js';
import { loadEncryptionKey } from './encryption-key.js';
import { createHttpApp } from './http/app.js';
import { type Logger, createLogger } from './logger.js';
import { createMetrics } from './metrics.js';
import { ApiKeysService } from './services/api-keys.js';
import { EndpointCache } from './services/caches.js';
import type { ServiceContext } from './services/context.js';
import { DeliveriesService } from './services/deliveries.js';
import { EndpointsService } from './services/endpoints.js';
import { EventsService, type IngestRunner } from './services/events.js';
import { emitHeraldEvent } from './services/record-event.js';
import { Store } from './store/store.js';
import type { ThreadedWriter } from './store/threaded-writer.js';
import { type ThreadUnits, threadUnits } from './thread-units.js';
import { VERSION } from './version.js';
import { HttpClient } from './channels/http-client.js';
import { createSenders } from './channels/senders.js';
import { validateTemplates } from './channels/templates.js';
import { AttemptRunner } from './engine/attempt.js';
import { Digests } from './engine/digests.js';
import { Maintenance } from './engine/maintenance.js';
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
  const { key: secretKey, created } = loadEncryptionKey(config);
  if (created) log.warn({ file: created }, 'created a new encryption key for secrets; back it up together with the database');

  let storeRef: Store | undefined;
  // Also dropped when the writer thread changes endpoints (a 410 Gone), before this thread writes again.
  const endpointCache = new EndpointCache(() => storeRef?.endpointsGeneration ?? 0);
  let apiKeys: ApiKeysService | undefined;
  const dropCaches = () => {
    endpointCache.invalidate();
    apiKeys?.invalidate();
  };
  let metrics: ReturnType<typeof createMetrics> | undefined;
  let scheduler: Scheduler | undefined;
  let digests: Digests | undefined;
  /** Entries that make a delivery due now: the scheduler is woken at once instead of polling. */
  const wakesScheduler = (e: LedgerEntry) =>
    (e.kind === 'event.received' && e.body.deliveries.length > 0) ||
    e.kind === 'deliveries.requeued' ||
    e.kind === 'digest.created' ||
    e.kind === 'attempt.interrupted' ||
    e.kind === 'endpoint.enabled';
  /** Which endpoints (or notify:<channel>) these entries gave due work; undefined when not only new events. */
  const newWorkGroups = (entries: LedgerEntry[]): string[] | undefined => {
    const groups: string[] = [];
    for (const e of entries) {
      if (!wakesScheduler(e)) continue;
      if (e.kind !== 'event.received') return undefined;
      for (const d of e.body.deliveries) if (d.next_attempt_at !== null) groups.push(d.endpoint_id ?? `notify:${d.channel}`);
    }
    return groups;
  };
  const store = await Store.open({
    path: config.HERALD_DB,
    synchronous: config.HERALD_SYNCHRONOUS,
    clock,
    // The writer thread keeps real time, so a test's clock keeps everything on one thread.
    ...(config.HERALD_WRITER_THREAD && !opts.clock ? { writerThread: { unitsModule: new URL('./thread-units.js', import.meta.url) } } : {}),
    onAppend: (entry) => {
      if (entry.kind.startsWith('endpoint.')) endpointCache.invalidate();
      else if (entry.kind.startsWith('api_key.')) apiKeys?.invalidate();
    },
    onForeignWrite: dropCaches,
    onCommit: ({ entries, units }) => {
      metrics?.commitUnits.observe(units);
      for (const e of entries) metrics?.ledgerEntries.inc({ kind: e.kind });
      if (entries.some(wakesScheduler)) scheduler?.wake(newWorkGroups(entries));
      if (entries.some((e) => e.kind.startsWith('endpoint.'))) void digests?.sync().catch((err: unknown) => log.error({ err }, 'digest sync failed'));
    },
  });
  storeRef = store;
  metrics = createMetrics(() => store.read.deliveries.queueStats(clock().toISOString()));

  const ctx: ServiceContext = { store, config, clock, secretKey, endpoints: endpointCache, log, metrics };
  apiKeys = new ApiKeysService(ctx);
  // The hot units (ingest, attempts) run on the writer thread when there is one, else inline.
  const inline = threadUnits(ctx);
  const thread = () => store.threaded as ThreadedWriter<ThreadUnits> | undefined;
  const recordIngest: IngestRunner = (principal, items) => thread()?.run('ingest', principal, items) ?? store.write((tx) => inline.ingest(tx, principal, items));
  const events = new EventsService(ctx, recordIngest);
  const endpoints = new EndpointsService(ctx, validateTemplates);
  const deliveries = new DeliveriesService(ctx);

  const http = new HttpClient({ allowPrivateNetworks: config.HERALD_ALLOW_PRIVATE_NETWORKS, userAgent: `herald/${VERSION}` });
  const senders = createSenders(config, http, `herald/${VERSION}`);
  const attempts = new AttemptRunner(ctx, endpoints, senders, {
    lease: (ids, margin) => thread()?.run('lease', ids, margin) ?? store.write((tx) => inline.lease(tx, ids, margin)),
    finishAndLease: (attempt, nextIds, margin) =>
      thread()?.run('finishAndLease', attempt, nextIds, margin) ?? store.write((tx) => inline.finishAndLease(tx, attempt, nextIds, margin)),
  });
  scheduler = new Scheduler({
    due: (now, limit, skip) => store.read.deliveries.dueDeliveries(now, limit, skip),
    nextDueAt: () => store.read.deliveries.nextDueAt(),
    lease: (rows) => attempts.lease(rows),
    run: (leased, signal, takeNext) => attempts.run(leased, signal, takeNext),
    clock,
    log,
    maxConcurrent: config.HERALD_MAX_CONCURRENT_DELIVERIES,
    maxPerEndpoint: config.HERALD_MAX_PER_ENDPOINT,
  });
  const maintenance = new Maintenance(ctx);
  digests = new Digests(ctx);
  const digestJobs = digests;
  maintenance.onTick(() => digestJobs.sync());

  const bootstrapKey = await apiKeys.bootstrap();
  if (bootstrapKey) {
    announce(`herald: created an admin API key (it is shown only this once): ${bootstrapKey}`);
  }
  await store.write((tx) => emitHeraldEvent(tx, ctx, 'herald.started', null, { version: VERSION }));

  maintenance.start();
  scheduler.start();

  let accepting = true;
  const app = createHttpApp({ config, log, metrics, store, version: VERSION, events, endpoints, deliveries, apiKeys, isAccepting: () => accepting });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: config.HERALD_PORT, hostname: config.HERALD_HOST }, () => resolve(s as Server)) as Server;
    s.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${config.HERALD_HOST.includes(':') ? `[${config.HERALD_HOST}]` : config.HERALD_HOST}:${port}`;
  log.info({ url, db: config.HERALD_DB, version: VERSION }, 'herald is listening');

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      accepting = false;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections?.();
      });
      maintenance.stop();
      digests?.stop();
      await scheduler!.stop(config.HERALD_SHUTDOWN_GRACE_MS);
      await deliveries.drain();
      await Promise.all(Object.values(senders).map((s) => s.close?.()));
      await http.close();
      await store.close();
      log.info('herald stopped');
    })());

  return { url, port, store, log, stop };
}
