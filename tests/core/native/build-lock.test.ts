import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { withBuildLock } from '../../../src-main/core/native/build-lock.js';
import { scratchDir } from '../../helpers/models.js';

describe('withBuildLock', () => {
  it('runs one holder at a time', async () => {
    const lock = path.join(scratchDir(), 'build.lock');
    const events: string[] = [];
    const hold = (name: string) =>
      withBuildLock(lock, async () => {
        events.push(`${name} in`);
        await sleep(100);
        events.push(`${name} out`);
      }, { pollMs: 10 });
    await Promise.all([hold('a'), hold('b')]);
    // Each holder leaves before the other enters.
    const [firstIn, firstOut, secondIn, secondOut] = events;
    expect(firstOut).toBe(firstIn!.replace('in', 'out'));
    expect(secondOut).toBe(secondIn!.replace('in', 'out'));
    expect(new Set([firstIn, secondIn])).toEqual(new Set(['a in', 'b in']));
  });

  it('takes over a lock whose owner process is gone', async () => {
    const lock = path.join(scratchDir(), 'build.lock');
    const gone = spawn(process.execPath, ['-e', '']);
    await new Promise((resolve) => gone.on('exit', resolve));
    await mkdir(lock);
    await writeFile(path.join(lock, 'pid'), String(gone.pid));
    expect(await withBuildLock(lock, async () => 'built', { pollMs: 10 })).toBe('built');
  });

  it('stops waiting, without doing the work, once the holder has made what the waiter needs', async () => {
    const lock = path.join(scratchDir(), 'build.lock');
    let workerEngineReady = false;
    let releaseHolder!: () => void;
    const holder = withBuildLock(lock, () => new Promise<string>((resolve) => (releaseHolder = () => resolve('everything built'))), { pollMs: 10 });
    await until(() => existsSync(path.join(lock, 'pid')));
    let waiterWorked = false;
    const waiter = withBuildLock(lock, async () => (waiterWorked = true), { pollMs: 10, stopWaitingWhen: async () => workerEngineReady });
    // The holder publishes the first program and goes on building the rest.
    workerEngineReady = true;
    expect(await waiter).toBeUndefined();
    expect(waiterWorked).toBe(false);
    releaseHolder();
    expect(await holder).toBe('everything built');
  });

  it('releases the lock when the work fails', async () => {
    const lock = path.join(scratchDir(), 'build.lock');
    await expect(withBuildLock(lock, async () => Promise.reject(new Error('compile error')), { pollMs: 10 })).rejects.toThrow('compile error');
    expect(await withBuildLock(lock, async () => 'again', { pollMs: 10 })).toBe('again');
  });
});

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await sleep(5);
}
