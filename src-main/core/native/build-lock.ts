import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isProcessAlive } from '../base/process-alive.js';

/** How to wait for the lock. */
export interface BuildLockOptions {
  pollMs?: number;
  /** While another process holds the lock: stop waiting, without running the work, once this says it is no longer needed. */
  stopWaitingWhen?: () => Promise<boolean>;
}

/**
 * Run `work` while holding a lock folder, so two processes (the app and a CLI, or parallel
 * tests) never build into the same place. A lock whose owner process is gone is taken over.
 * Resolves to undefined when `stopWaitingWhen` ended the wait.
 */
export async function withBuildLock<T>(lockDir: string, work: () => Promise<T>, options: BuildLockOptions = {}): Promise<T | undefined> {
  await mkdir(path.dirname(lockDir), { recursive: true });
  for (;;) {
    try {
      await mkdir(lockDir);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (!(await ownerAlive(lockDir))) {
        await rm(lockDir, { recursive: true, force: true });
        continue;
      }
      if (await options.stopWaitingWhen?.()) return undefined;
      await sleep(options.pollMs ?? 500);
    }
  }
  try {
    await writeFile(path.join(lockDir, 'pid'), String(process.pid));
    return await work();
  } finally {
    await rm(lockDir, { recursive: true, force: true });
  }
}

async function ownerAlive(lockDir: string): Promise<boolean> {
  let pid: number;
  try {
    pid = Number(await readFile(path.join(lockDir, 'pid'), 'utf8'));
  } catch {
    // The owner may be between mkdir and writing its pid; only an old pid-less lock is stale.
    return stat(lockDir).then((info) => Date.now() - info.mtimeMs < 10_000, () => false);
  }
  return Number.isInteger(pid) && pid > 0 && isProcessAlive(pid);
}
