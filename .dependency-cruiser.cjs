// herald's layering, checked by `npm run lint` (part of `npm test`): data flows http → services →
// engine/channels → store → domain, and nothing outside src/store/sqlite/ knows the store is SQLite.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'domain-is-pure',
      comment: 'domain/ holds pure rules: it imports nothing of herald outside domain/',
      severity: 'error',
      from: { path: '^src/domain/' },
      to: { path: '^(src/(?!domain/)|migrations/)' },
    },
    {
      name: 'store-only-domain',
      comment: 'store/ may import only domain/ (and its migrations)',
      severity: 'error',
      from: { path: '^src/store/' },
      to: { path: '^src/(?!store/|domain/)' },
    },
    {
      name: 'sqlite-stays-in-its-folder',
      comment: 'only src/store/open.ts chooses the SQLite store; nothing else knows it is SQLite',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/store/(sqlite/|open\\.ts$)' },
      to: { path: '^src/store/sqlite/|better-sqlite3' },
    },
    {
      name: 'channels-not-engine-or-services',
      comment: 'channels/ send messages; they know nothing of the engine, services, HTTP or the store',
      severity: 'error',
      from: { path: '^src/channels/' },
      to: { path: '^src/(engine|services|http|store)/' },
    },
    {
      name: 'http-not-store',
      comment: 'http/ and console/ go through services/, never to the store',
      severity: 'error',
      from: { path: '^src/(http|console)/' },
      to: { path: '^src/store/' },
    },
    {
      name: 'console-not-engine-or-channels',
      comment: 'the console is pages over the services, like the API',
      severity: 'error',
      from: { path: '^src/console/' },
      to: { path: '^src/(engine|channels)/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^(dist|node_modules)/' },
  },
};
