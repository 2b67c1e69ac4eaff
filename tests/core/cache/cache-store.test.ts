import { randomBytes } from 'node:crypto';
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CacheStore, DEFAULT_CAP_SHARE } from '../../../src-main/core/cache/cache-store.js';
import { Fnv1a64 } from '../../../src-main/core/cache/checksums.js';
import { listEntries } from '../../../src-main/core/cache/entry-files.js';
import { scratchDir } from '../../helpers/models.js';

const KiB = 1024;

/** A made-up tensor: random bytes and their llama.cpp cache name. */
function tensor(size: number): { hash: string; bytes: Buffer } {
  const bytes = randomBytes(size);
  return { hash: new Fnv1a64().update(bytes).digestHex(), bytes };
}

async function* once(bytes: Buffer): AsyncIterable<Uint8Array> {
  yield bytes;
}

/** A store on a fresh folder with a manual clock. */
async function freshStore(options: { diskBytes?: number } = {}) {
  let now = 1_000_000;
  const root = scratchDir();
  const store = await CacheStore.open({ root, clock: () => now, diskBytes: options.diskBytes ?? 1024 * KiB });
  return { root, store, tick: (ms = 1000) => (now += ms) };
}

describe('CacheStore', () => {
  it('defaults its cap to a quarter of the disk, and takes the user\'s', async () => {
    const { store } = await freshStore({ diskBytes: 400 * KiB });
    expect(store.capBytes).toBe(400 * KiB * DEFAULT_CAP_SHARE);
    await store.setCap(64 * KiB);
    expect(store.summary()).toMatchObject({ capBytes: 64 * KiB, capIsDefault: false });
    await expect(store.setCap(-1)).rejects.toThrow(/whole number of bytes/);
  });

  it('evicts the least recently used entries to fit the cap', async () => {
    const { store, tick, root } = await freshStore();
    const [a, b, c] = [tensor(10 * KiB), tensor(10 * KiB), tensor(10 * KiB)];
    for (const t of [a, b, c]) {
      await store.put(t.hash, t.bytes.length, once(t.bytes));
      tick();
    }
    // a is used again by a load: b is now the least recently used.
    await store.onServerEvent({ kind: 'hit', hash: a.hash, bytes: a.bytes.length });
    await store.setCap(25 * KiB);
    expect(store.has(b.hash)).toBe(false);
    expect(store.has(a.hash) && store.has(c.hash)).toBe(true);
    expect((await listEntries(path.join(root, 'rpc'))).map((entry) => entry.hash).sort()).toEqual([a.hash, c.hash].sort());
  });

  it('never evicts an entry a load has pinned, until the pin ends', async () => {
    const { store, tick } = await freshStore();
    const [old, fresh] = [tensor(10 * KiB), tensor(10 * KiB)];
    await store.put(old.hash, old.bytes.length, once(old.bytes));
    tick();
    await store.put(fresh.hash, fresh.bytes.length, once(fresh.bytes));
    const pin = store.pin([old.hash], 60_000);
    await store.setCap(15 * KiB);
    expect(store.has(old.hash)).toBe(true);
    expect(store.has(fresh.hash)).toBe(false);
    expect(store.summary().pinnedBytes).toBe(10 * KiB);

    store.unpin(pin);
    await store.setCap(5 * KiB);
    expect(store.has(old.hash)).toBe(false);

    const lapsed = tensor(4 * KiB);
    await store.put(lapsed.hash, lapsed.bytes.length, once(lapsed.bytes));
    store.pin([lapsed.hash], 1000);
    tick(2000); // the pin's time is up
    await store.setCap(0);
    expect(store.has(lapsed.hash)).toBe(false);
  });

  it('groups entries by registered model and clears one model', async () => {
    const { store } = await freshStore();
    const [a, b, c] = [tensor(4 * KiB), tensor(4 * KiB), tensor(4 * KiB)];
    for (const t of [a, b, c]) await store.put(t.hash, t.bytes.length, once(t.bytes));
    store.registerModel('m1', 'Model One', [a.hash, b.hash]);
    store.registerModel('m2', 'Model Two', [c.hash]);
    expect(store.summary().models).toEqual([
      { id: 'm1', name: 'Model One', entries: 2, bytes: 8 * KiB },
      { id: 'm2', name: 'Model Two', entries: 1, bytes: 4 * KiB },
    ]);
    expect(store.entries().find((entry) => entry.hash === a.hash)?.models).toEqual(['m1']);
    expect(await store.clear('m1')).toEqual({ entries: 2, bytes: 8 * KiB });
    expect([store.has(a.hash), store.has(b.hash), store.has(c.hash)]).toEqual([false, false, true]);
    await expect(store.clear('nope')).rejects.toThrow(/No model "nope"/);
  });

  it('counts loads from the server\'s events, per load and for its lifetime', async () => {
    const { store } = await freshStore();
    const events = [
      { kind: 'client-open' },
      { kind: 'client-close', received: 300, sent: 300 }, // a probing connection: not a load
      { kind: 'client-open' },
      { kind: 'miss', hash: 'aaaaaaaaaaaaaaaa' },
      { kind: 'store', hash: 'aaaaaaaaaaaaaaaa', bytes: 100 },
      { kind: 'client-close', received: 5000, sent: 10 },
      { kind: 'client-open' },
      { kind: 'hit', hash: 'aaaaaaaaaaaaaaaa', bytes: 100 },
    ] as const;
    for (const event of events) await store.onServerEvent(event);
    const summary = store.summary();
    expect(summary.loads).toBe(1);
    expect(summary.lastLoad).toMatchObject({ misses: 1, stores: 1, hits: 0, bytesReceived: 5000 });
    expect(summary.currentLoad).toMatchObject({ hits: 1, bytesFromCache: 100 });
    expect(summary.lifetime).toMatchObject({ hits: 1, misses: 1, stores: 1, bytesFromCache: 100, bytesReceived: 5300 });
  });

  it('remembers use order, cap, models and statistics across a restart, and sweeps what a crash left', async () => {
    const { store, root, tick } = await freshStore();
    const [a, b] = [tensor(4 * KiB), tensor(4 * KiB)];
    await store.put(a.hash, a.bytes.length, once(a.bytes));
    tick();
    await store.put(b.hash, b.bytes.length, once(b.bytes));
    tick();
    await store.onServerEvent({ kind: 'hit', hash: a.hash, bytes: a.bytes.length });
    await store.setCap(50 * KiB);
    store.registerModel('m', 'M', [a.hash]);
    await store.flush();
    await writeFile(path.join(root, 'rpc', `${a.hash}.tmp-1234-1`), 'half a tensor');

    const reopened = await CacheStore.open({ root, diskBytes: 100 * KiB });
    expect(reopened.entries().map((entry) => entry.hash)).toEqual([a.hash, b.hash]);
    expect(reopened.capBytes).toBe(50 * KiB);
    expect(reopened.summary().lifetime.hits).toBe(1);
    expect(reopened.summary().models[0]).toMatchObject({ id: 'm', entries: 1 });
    expect((await listEntries(path.join(root, 'rpc'))).length).toBe(2);
    expect((await readdir(path.join(root, 'rpc'))).some((name) => name.includes('.tmp-'))).toBe(false);
  });
});
