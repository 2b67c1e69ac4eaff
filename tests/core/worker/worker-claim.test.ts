import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { claimCacheRoot, readWorkerClaim } from '../../../src-main/core/worker/worker-claim.js';
import { scratchDir } from '../../helpers/models.js';

describe('the cache folder claim', () => {
  it('lets exactly one of two simultaneous claims win', async () => {
    const root = scratchDir();
    const results = await Promise.allSettled([
      claimCacheRoot(root, { pid: process.pid, controlUrl: 'http://a/', rpcEndpoint: 'a' }),
      claimCacheRoot(root, { pid: process.pid, controlUrl: 'http://b/', rpcEndpoint: 'b' }),
    ]);
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    const refused = results.find((result) => result.status === 'rejected') as PromiseRejectedResult;
    expect(String(refused.reason)).toMatch(/already serves the cache folder/);
  });

  it('takes over the claim of a process that is gone', async () => {
    const root = scratchDir();
    const gone = spawn(process.execPath, ['-e', '']);
    await new Promise((resolve) => gone.on('exit', resolve));
    await writeFile(path.join(root, 'hearth-worker.json'), JSON.stringify({ pid: gone.pid, controlUrl: 'http://old/', rpcEndpoint: 'x' }));
    expect(await readWorkerClaim(root)).toBeUndefined();
    const held = await claimCacheRoot(root, { pid: process.pid, controlUrl: 'http://new/', rpcEndpoint: 'y' });
    expect(await readWorkerClaim(root)).toMatchObject({ controlUrl: 'http://new/' });
    await held.release();
    expect(await readWorkerClaim(root)).toBeUndefined();
  });
});
