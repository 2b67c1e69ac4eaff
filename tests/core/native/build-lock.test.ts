import { spawn } from 'node:child_process';
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
      }, 10);
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
    expect(await withBuildLock(lock, async () => 'built', 10)).toBe('built');
  });

  it('releases the lock when the work fails', async () => {
    const lock = path.join(scratchDir(), 'build.lock');
    await expect(withBuildLock(lock, async () => Promise.reject(new Error('compile error')), 10)).rejects.toThrow('compile error');
    expect(await withBuildLock(lock, async () => 'again', 10)).toBe('again');
  });
});
