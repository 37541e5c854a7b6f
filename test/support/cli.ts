// Runs the real `herald` command (bin/herald.js, which runs the compiled dist/) as a child process.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(REPO_ROOT, 'bin', 'herald.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `node bin/herald.js ...args` with `env` on top of PATH/HOME (no HERALD_* from the outer environment). */
export function runCli(args: string[], env: Record<string, string>, timeoutMs = 30_000): Promise<CliResult> {
  if (!existsSync(join(REPO_ROOT, 'dist', 'src', 'main.js'))) {
    return Promise.reject(new Error('dist/ is missing: run `npm run build` (npm test does it) before the CLI tests'));
  }
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HERALD_')));
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: REPO_ROOT, env: { ...base, HERALD_LOG_LEVEL: 'silent', ...env }, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err && typeof err.code !== 'number') {
          reject(err);
          return;
        }
        resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
      },
    );
  });
}
