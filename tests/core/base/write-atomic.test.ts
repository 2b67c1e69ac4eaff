// Small files are replaced whole or not at all: a failed write leaves the old file and no temporary one.
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../../src-main/core/base/write-atomic.js';
import { scratchDir } from '../../helpers/models.js';

describe('writeFileAtomic', () => {
  it('replaces the file, with the mode asked for a new one', async () => {
    const dir = scratchDir();
    const file = path.join(dir, 'a.json');
    await writeFile(file, 'old');
    await writeFileAtomic(file, 'new', { sync: true });
    expect(await readFile(file, 'utf8')).toBe('new');
    await writeFileAtomic(path.join(dir, 'secret.json'), 'key', { mode: 0o600 });
    expect((await stat(path.join(dir, 'secret.json'))).mode & 0o777).toBe(0o600);
    expect((await readdir(dir)).sort()).toEqual(['a.json', 'secret.json']);
  });

  it('leaves the old file and no temporary one when the rename fails', async () => {
    const dir = scratchDir();
    const target = path.join(dir, 'folder-in-the-way');
    await writeFile(path.join(dir, 'keep'), 'x');
    // A folder cannot be replaced by a file: the rename fails after the temporary file was written.
    await mkdir(target);
    await expect(writeFileAtomic(target, 'new')).rejects.toThrow();
    expect((await readdir(dir)).sort()).toEqual(['folder-in-the-way', 'keep']);
  });
});
