import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { HearthError } from '../base/errors.js';
import { isProcessAlive } from '../base/process-alive.js';

/** Who serves a cache folder: the running worker's process and its control API. */
export interface WorkerClaim {
  pid: number;
  controlUrl: string;
  rpcEndpoint: string;
}

function claimPath(root: string): string {
  return path.join(root, 'hearth-worker.json');
}

/** The live worker serving this cache root, if any (a claim whose process is gone does not count). */
export async function readWorkerClaim(root: string): Promise<WorkerClaim | undefined> {
  try {
    const claim = JSON.parse(await readFile(claimPath(root), 'utf8')) as WorkerClaim;
    return isProcessAlive(claim.pid) ? claim : undefined;
  } catch {
    return undefined;
  }
}

/** A held claim: refresh what it says, or let the folder go. */
export interface HeldClaim {
  update(claim: WorkerClaim): Promise<void>;
  release(): Promise<void>;
}

/**
 * Mark the cache root as served by this process. One worker per folder: two servers writing
 * the same cache would each clear the other's temporary files and disagree about its size.
 * The claim file is created exclusively, so two workers starting together cannot both win.
 */
export async function claimCacheRoot(root: string, claim: WorkerClaim): Promise<HeldClaim> {
  await mkdir(root, { recursive: true });
  const file = claimPath(root);
  for (let attempt = 0; ; attempt++) {
    try {
      await writeFile(file, `${JSON.stringify(claim)}\n`, { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 2) throw error;
      const other = await readWorkerClaim(root);
      if (other) {
        throw new HearthError('cache-in-use', `Another Hearth process (${other.pid}${other.controlUrl ? `, control API ${other.controlUrl}` : ''}) already serves the cache folder ${root}: stop it, or give this one another --cache-dir.`);
      }
      // Its owner is gone (or the file is unreadable): take the folder over.
      await rm(file, { force: true });
    }
  }
  return {
    update: (next) => writeFile(file, `${JSON.stringify(next)}\n`),
    release: () => rm(file, { force: true }),
  };
}
