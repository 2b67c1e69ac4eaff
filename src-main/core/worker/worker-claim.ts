import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { HearthError } from '../errors.js';

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
    return isAlive(claim.pid) ? claim : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Mark the cache root as served by this process. One worker per folder: two servers writing
 * the same cache would each clear the other's temporary files and disagree about its size.
 */
export async function claimCacheRoot(root: string, claim: WorkerClaim): Promise<() => Promise<void>> {
  const other = await readWorkerClaim(root);
  if (other && other.pid !== claim.pid) {
    throw new HearthError('cache-in-use', `Another Hearth worker (process ${other.pid}, control API ${other.controlUrl}) already serves the cache folder ${root}: stop it, or give this one another --cache-dir.`);
  }
  await mkdir(root, { recursive: true });
  await writeFile(claimPath(root), `${JSON.stringify(claim)}\n`);
  return () => rm(claimPath(root), { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
