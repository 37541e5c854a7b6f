// herald's version, read once from package.json (used in user-agent, /openapi.json and logs).
import { existsSync, readFileSync } from 'node:fs';

// Compiled, this file is dist/src/version.js (package.json two levels up); run as TypeScript
// (vitest, tsx) it is src/version.ts (one level up). Take the nearest package.json.
const packageJson = ['../package.json', '../../package.json']
  .map((p) => new URL(p, import.meta.url))
  .find((u) => existsSync(u));
if (!packageJson) throw new Error('herald: cannot find package.json next to the source or the build');

export const VERSION: string = (JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string }).version;
