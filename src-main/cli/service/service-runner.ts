import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { HearthError } from '../../core/base/errors.js';

/** How a command the installer ran ended; `missing` when the program is not installed at all. */
export interface RunOutcome {
  code: number | null;
  stdout: string;
  stderr: string;
  missing: boolean;
}

/** Every side effect of installing a service, so a test can see the exact files and commands without making them. */
export interface ServiceRunner {
  exists(file: string): boolean;
  /** Write a file, making its folder first. */
  writeFile(file: string, text: string): Promise<void>;
  makeDir(dir: string): Promise<void>;
  /** Remove a file; false when there was none. */
  removeFile(file: string): Promise<boolean>;
  run(program: string, args: string[]): Promise<RunOutcome>;
}

const RUN_TIMEOUT_MS = 60_000;

function failed(what: string, file: string): (error: NodeJS.ErrnoException) => never {
  return (error) => {
    const hint = error.code === 'EACCES' || error.code === 'EPERM' ? ' (permission denied: a system service is installed with sudo)' : '';
    throw new HearthError('service', `could not ${what} ${file}: ${error.code ?? error.message}${hint}`);
  };
}

/** The real side effects, on this machine. */
export function systemServiceRunner(): ServiceRunner {
  return {
    exists: (file) => existsSync(file),
    async writeFile(file, text) {
      await mkdir(path.dirname(file), { recursive: true }).catch(failed('make the folder of', file));
      await writeFile(file, text, { mode: 0o644 }).catch(failed('write', file));
    },
    async makeDir(dir) {
      await mkdir(dir, { recursive: true }).catch(failed('make the folder', dir));
    },
    async removeFile(file) {
      if (!existsSync(file)) return false;
      await rm(file, { force: true }).catch(failed('remove', file));
      return true;
    },
    run: (program, args) => new Promise((resolve) => {
      execFile(program, args, { timeout: RUN_TIMEOUT_MS, windowsHide: true }, (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr), missing: (error as NodeJS.ErrnoException | null)?.code === 'ENOENT' });
      });
    }),
  };
}
