// The CLI: herald serve | migrate | keys create --role R --name N | ledger verify | ledger rebuild --check
import { parseArgs } from 'node:util';
import { startHerald } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { ROLES, type Role } from './domain/ledger-entry.js';
import { loadEncryptionKey } from './encryption-key.js';
import { createLogger } from './logger.js';
import { createMetrics } from './metrics.js';
import { ApiKeysService } from './services/api-keys.js';
import { EndpointCache } from './services/caches.js';
import { SYSTEM } from './services/context.js';
import { openStore } from './store/open.js';

const USAGE = `usage: herald <command>
  serve                              run the API and the delivery engine
  migrate                            create or upgrade the database, then exit
  keys create --role R --name N      create an API key (roles: ${ROLES.join(', ')}); prints it once
  ledger verify                      recompute the hash chain; exit 1 if it is broken
  ledger rebuild --check             replay the ledger into fresh projections; exit 1 on any difference
Settings come from HERALD_* environment variables (see README).`;

export async function main(argv: string[]): Promise<number> {
  const [cmd, sub, ...rest] = argv;
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`herald: ${err.message}`);
      return 2;
    }
    throw err;
  }

  switch (cmd) {
    case 'serve':
    case undefined: {
      let herald;
      try {
        herald = await startHerald(config);
      } catch (err) {
        console.error(`herald: cannot start: ${(err as Error).message}`);
        return 1;
      }
      const shutdown = (signal: string) => {
        herald.log.info({ signal }, 'shutting down');
        herald.stop().then(
          () => process.exit(0),
          (err: unknown) => {
            herald.log.error({ err }, 'shutdown failed');
            process.exit(1);
          },
        );
      };
      process.once('SIGTERM', () => shutdown('SIGTERM'));
      process.once('SIGINT', () => shutdown('SIGINT'));
      return new Promise<number>(() => {}); // runs until a signal
    }
    case 'migrate': {
      const store = await openStore(config);
      await store.close();
      console.log(`herald: ${config.HERALD_DB} is up to date`);
      return 0;
    }
    case 'keys': {
      if (sub !== 'create') break;
      const { values } = parseArgs({ args: rest, options: { role: { type: 'string' }, name: { type: 'string' } } });
      if (!values.role || !ROLES.includes(values.role as Role) || !values.name) {
        console.error(`herald: keys create needs --role (${ROLES.join('|')}) and --name`);
        return 2;
      }
      const store = await openStore(config);
      try {
        const log = createLogger('silent');
        const ctx = {
          store, config, log, clock: () => new Date(), secretKey: loadEncryptionKey(config, await store.read.endpoints.hasSealedValues()).key,
          endpoints: new EndpointCache(), metrics: createMetrics(async () => ({ waiting: 0, delivering: 0, oldest_due_at: null })),
        };
        const key = await new ApiKeysService(ctx).create({ ...SYSTEM, name: 'cli' }, { role: values.role as Role, name: values.name });
        console.log(key.key);
        console.error(`herald: created ${key.role} key "${key.name}" (${key.id}); it is shown only this once`);
        return 0;
      } finally {
        await store.close();
      }
    }
    case 'ledger': {
      const store = await openStore(config);
      try {
        if (sub === 'verify') {
          const r = await store.verify();
          console.log(JSON.stringify(r));
          if (!r.ok) console.error(`herald: the ledger is broken at seq ${r.first_broken_seq} (${r.reason})`);
          return r.ok ? 0 : 1;
        }
        if (sub === 'rebuild' && rest.includes('--check')) {
          const r = await store.rebuildCheck();
          console.log(JSON.stringify({ ok: r.differences.length === 0, entries: r.entries, tables: r.tables, differences: r.differences }, null, 2));
          return r.differences.length === 0 ? 0 : 1;
        }
      } finally {
        await store.close();
      }
      break;
    }
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return 0;
  }
  console.error(USAGE);
  return 2;
}
