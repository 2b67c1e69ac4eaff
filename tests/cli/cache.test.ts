import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { CacheStore } from '../../src-main/core/cache/cache-store.js';
import { Fnv1a64 } from '../../src-main/core/cache/checksums.js';
import { HEARTH_BIN, REPO_ROOT, runHearth } from '../helpers/cli.js';
import { scratchDir } from '../helpers/models.js';

async function* once(bytes: Buffer): AsyncIterable<Uint8Array> {
  yield bytes;
}

/** A cache folder with two entries, the first registered as model "m1". */
async function filledCache(): Promise<{ root: string; hashes: string[] }> {
  const root = scratchDir();
  const store = await CacheStore.open({ root });
  const hashes: string[] = [];
  for (let i = 0; i < 2; i++) {
    const bytes = randomBytes(64 * 1024);
    const hash = new Fnv1a64().update(bytes).digestHex();
    await store.put(hash, bytes.length, once(bytes));
    hashes.push(hash);
  }
  store.registerModel('m1', 'Model One', [hashes[0]!]);
  await store.flush();
  return { root, hashes };
}

describe('hearth cache', () => {
  it('lists, verifies and clears a cache folder when no worker serves it', async () => {
    const { root, hashes } = await filledCache();
    const ls = await runHearth(['cache', 'ls', '--cache-dir', root, '--json']);
    expect(ls.code, ls.stderr).toBe(0);
    const listed = JSON.parse(ls.stdout) as { entries: number; entryList: { hash: string }[]; models: { id: string }[] };
    expect(listed.entries).toBe(2);
    expect(listed.entryList.map((entry) => entry.hash).sort()).toEqual([...hashes].sort());
    expect(listed.models.map((model) => model.id)).toEqual(['m1']);

    const text = await runHearth(['cache', 'ls', '--cache-dir', root]);
    expect(text.stdout).toMatch(/m1\s+Model One: 1 entries/);

    const verify = await runHearth(['cache', 'verify', '--cache-dir', root, '--json']);
    expect(JSON.parse(verify.stdout)).toEqual({ checked: 2, damaged: [] });

    const clear = await runHearth(['cache', 'clear', 'm1', '--cache-dir', root, '--json']);
    expect(JSON.parse(clear.stdout)).toEqual({ entries: 1, bytes: 64 * 1024 });
    expect((await readdir(path.join(root, 'rpc'))).filter((name) => /^[0-9a-f]{16}$/.test(name))).toEqual([hashes[1]]);
  });

  it('goes through the worker that serves the folder', async () => {
    const { root, hashes } = await filledCache();
    const worker = spawn(process.execPath, [HEARTH_BIN, 'worker', '--json', '--port', '0', '--rpc-port', '0', '--link-port', '0', '--no-discovery', '--cache-dir', root], {
      cwd: REPO_ROOT,
      env: { ...process.env, HEARTH_DATA_DIR: scratchDir('hearth-data-') },
    });
    try {
      const lines = createInterface({ input: worker.stdout })[Symbol.asyncIterator]();
      expect(JSON.parse(String((await lines.next()).value))).toMatchObject({ event: 'ready' });
      const clear = await runHearth(['cache', 'clear', '--cache-dir', root, '--json']);
      expect(JSON.parse(clear.stdout)).toEqual({ entries: 2, bytes: 2 * 64 * 1024 });
      const ls = JSON.parse((await runHearth(['cache', 'ls', '--cache-dir', root, '--json'])).stdout) as { entries: number };
      expect(ls.entries).toBe(0);
      expect(hashes).toHaveLength(2);
    } finally {
      worker.kill('SIGTERM');
      await new Promise((resolve) => worker.once('exit', resolve));
    }
  });

  it('explains its usage', async () => {
    const result = await runHearth(['cache', 'frob']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('hearth cache ls | verify | clear [MODEL]');
  });
});
