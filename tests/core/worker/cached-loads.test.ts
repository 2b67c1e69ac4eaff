// Loads through a real Hearth worker: real llama-server → real ggml-rpc-server with the cache.
import { existsSync, watch } from 'node:fs';
import { open, readdir, truncate, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkPath, entryPath, isEntryName, verifyEntry } from '../../../src-main/core/cache/entry-files.js';
import { ensureTools, type LlamaTools } from '../../../src-main/core/native/tools.js';
import type { RunningWorker } from '../../../src-main/core/worker/run-worker.js';
import { eventually, expectedEntries, type ExpectedEntry } from '../../helpers/expected-cache.js';
import { localCompletion, startLlamaServer, type Completion } from '../../helpers/llama-server.js';
import { syntheticModel } from '../../helpers/models.js';
import { loadThroughWorker, startTestWorker, type WorkerLoad } from '../../helpers/worker.js';

const PROMPT = 'The warm hearth of the cluster';
const TOKENS = 12;

let tools: LlamaTools;
let model: string;
let expected: ExpectedEntry[];
let local: Completion;

/** Greedy output of the model loaded through `worker`, and the worker's stats for that load. */
function loadThrough(worker: RunningWorker): Promise<WorkerLoad> {
  return loadThroughWorker(tools, worker, model, PROMPT, TOKENS);
}

async function entryFiles(worker: { cacheRoot: string }): Promise<string[]> {
  return (await readdir(path.join(worker.cacheRoot, 'rpc'))).filter(isEntryName).sort();
}

beforeAll(async () => {
  tools = await ensureTools();
  model = await syntheticModel('cacheSized');
  expected = await expectedEntries(model);
  local = await localCompletion(tools, model, PROMPT, TOKENS);
});

describe('loads through a Hearth worker', () => {
  let worker: RunningWorker & { cacheRoot: string };
  beforeAll(async () => {
    worker = await startTestWorker();
  });
  afterAll(() => worker?.stop());

  it('a cold load fills the cache with one verified entry per large tensor the worker holds', async () => {
    const cold = await loadThrough(worker);
    expect(cold.completion).toEqual(local);
    expect(await entryFiles(worker)).toEqual(expected.map((entry) => entry.hash).sort());
    const dir = path.join(worker.cacheRoot, 'rpc');
    for (const entry of expected) {
      // The server wrote each sidecar itself (verifyEntry would add a missing one).
      expect(existsSync(checkPath(dir, entry.hash)), `${entry.tensor} has no sidecar`).toBe(true);
      expect(await verifyEntry(dir, entry.hash)).toEqual({ ok: true, size: entry.size });
    }
    expect(cold.load).toMatchObject({ stores: expected.length, misses: expected.length, hits: 0 });
  });

  it('a warm load hits every entry, and the worker receives at least their bytes less', async () => {
    const coldReceived = worker.service.cache.summary().lastLoad!.bytesReceived;
    const warm = await loadThrough(worker);
    expect(warm.completion).toEqual(local);
    const cachedBytes = expected.reduce((sum, entry) => sum + entry.size, 0);
    expect(warm.load).toMatchObject({ hits: expected.length, misses: 0, stores: 0, bytesFromCache: cachedBytes });
    expect(coldReceived - warm.load.bytesReceived).toBeGreaterThanOrEqual(cachedBytes);
  });

  it('never uses a damaged entry: truncated, flipped or orphaned entries are dropped and sent again', async () => {
    const dir = path.join(worker.cacheRoot, 'rpc');
    const [truncated, flipped, bare, bareDamaged] = expected;
    await truncate(entryPath(dir, truncated!.hash), truncated!.size / 2);
    const file = await open(entryPath(dir, flipped!.hash), 'r+');
    await file.write(Buffer.alloc(4096, 0x5a), 0, 4096, 1_000_000);
    await file.close();
    await unlink(checkPath(dir, bare!.hash)); // no sidecar: checked against its name, then kept
    // Upstream's failure mode: a partial file under its final name, and no sidecar.
    await unlink(checkPath(dir, bareDamaged!.hash));
    await truncate(entryPath(dir, bareDamaged!.hash), 1000);

    const drops: string[] = [];
    worker.service.on('cache', (event: { kind: string; hash?: string }) => event.kind === 'drop' && drops.push(event.hash!));
    const reload = await loadThrough(worker);
    expect(reload.completion).toEqual(local);
    expect(drops.sort()).toEqual([truncated!.hash, flipped!.hash, bareDamaged!.hash].sort());
    expect(reload.load).toMatchObject({ misses: 3, stores: 3, hits: expected.length - 3 });
    for (const entry of expected) expect(await verifyEntry(dir, entry.hash)).toEqual({ ok: true, size: entry.size });
  });

  it('drops an entry whose sidecar is damaged', async () => {
    const dir = path.join(worker.cacheRoot, 'rpc');
    const victim = expected[4]!;
    await writeFile(checkPath(dir, victim.hash), 'crc32c=zzzz size=1\n');
    const reload = await loadThrough(worker);
    expect(reload.completion).toEqual(local);
    expect(reload.load).toMatchObject({ misses: 1, stores: 1, drops: 1 });
  });
});

describe('a bounded cache', () => {
  it('keeps what a running load uses, even over the cap, until its client goes', async () => {
    const total = expected.reduce((sum, entry) => sum + entry.size, 0);
    const worker = await startTestWorker({ capBytes: Math.floor(total / 3) });
    try {
      const server = await startLlamaServer({ llamaServer: tools.llamaServer, cwd: tools.cwd, env: tools.env, model, args: ['--rpc', worker.service.status.endpoint, '-ngl', '99'] });
      try {
        expect(await server.complete(PROMPT, TOKENS)).toEqual(local);
        // The model is loaded and serving: every entry it came from is still there.
        expect(await entryFiles(worker)).toEqual(expected.map((entry) => entry.hash).sort());
      } finally {
        await server.stop();
      }
      await eventually(() => (worker.service.cache.usedBytes <= Math.floor(total / 3) ? true : undefined), 10_000, 'eviction after the load ended');
    } finally {
      await worker.stop();
    }
  });

  it('evicts the least recently used entries under a small cap, but never pinned ones', async () => {
    const total = expected.reduce((sum, entry) => sum + entry.size, 0);
    const cap = Math.floor(total / 2);
    const worker = await startTestWorker({ capBytes: cap });
    try {
      await loadThrough(worker);
      const cache = worker.service.cache;
      expect(cache.usedBytes).toBeLessThanOrEqual(cap);
      expect(cache.summary().lifetime.stores).toBe(expected.length);
      const kept = await entryFiles(worker);
      expect(kept.length).toBeGreaterThan(0);
      expect(kept.length).toBeLessThan(expected.length);

      // A load that announces its entries pins them: nothing it needs is evicted, even over the cap.
      const pin = cache.pin(expected.map((entry) => entry.hash), 60_000);
      await loadThrough(worker);
      expect(await entryFiles(worker)).toEqual(expected.map((entry) => entry.hash).sort());
      expect(cache.usedBytes).toBeGreaterThan(cap);
      cache.unpin(pin);
      await cache.evictToCap();
      expect(cache.usedBytes).toBeLessThanOrEqual(cap);
    } finally {
      await worker.stop();
    }
  });
});

describe('crashes', () => {
  it('kill -9 of the RPC server mid-load leaves no partial entry, and the worker comes back', async () => {
    const worker = await startTestWorker();
    try {
      const firstPid = worker.service.pid!;
      const dir = path.join(worker.cacheRoot, 'rpc');
      // Kill the server while it is writing an entry: the moment a temporary file appears.
      const killed = new Promise<void>((resolve) => {
        const watcher = watch(dir, (_event, name) => {
          if (name?.includes('.tmp-') && worker.service.pid === firstPid) {
            process.kill(firstPid, 'SIGKILL');
            watcher.close();
            resolve();
          }
        });
      });
      const server = await startLlamaServer({ llamaServer: tools.llamaServer, cwd: tools.cwd, env: tools.env, model, args: ['--rpc', worker.service.status.endpoint, '-ngl', '99'], readyTimeoutMs: 30_000 }).catch(() => null);
      await killed;
      await server?.stop();

      await eventually(() => (worker.service.status.state === 'serving' && worker.service.pid !== firstPid ? true : undefined), 15_000, 'the supervisor to restart the RPC server');
      expect(worker.service.status.restarts).toBeGreaterThanOrEqual(1);
      const names = await readdir(dir);
      expect(names.filter((name) => name.includes('.tmp-'))).toEqual([]);
      // Every sidecar has its entry, and every entry is whole.
      for (const name of names.filter((n) => n.endsWith('.check'))) expect(names).toContain(name.slice(0, 16));
      for (const hash of names.filter(isEntryName)) expect((await verifyEntry(dir, hash)).ok).toBe(true);

      const after = await loadThrough(worker);
      expect(after.completion).toEqual(local);
    } finally {
      await worker.stop();
    }
  });
});
