// Runs the real `hearth` command line (bin/hearth.js → dist/main) as a user would.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The CLI entry point users run. */
export const HEARTH_BIN = path.join(REPO_ROOT, 'bin', 'hearth.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run `hearth ...args` to completion. `command` replaces `node bin/hearth.js` (e.g. to run it as another user). */
export function runHearth(args: string[], options: { env?: NodeJS.ProcessEnv; prefix?: string[]; cwd?: string } = {}): Promise<CliResult> {
  const [command, ...prefixArgs] = [...(options.prefix ?? []), process.execPath, HEARTH_BIN];
  return new Promise((resolve, reject) => {
    const child = spawn(command!, [...prefixArgs, ...args], { env: options.env ?? process.env, cwd: options.cwd ?? REPO_ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
