// `hearth warm` as a user runs it, against two real Hearth workers of one cluster on loopback
// (peers given by address): coverage in `hearth plan` before and after, exactly each peer's
// share pushed, a load after it served from the caches alone, and an interrupted warm-up resumed.
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoadCacheProgress, PeerCoverage, WarmupProgress } from '../../src-main/core/api/contract.js';
import { isEntryName } from '../../src-main/core/cache/entry-files.js';
import { loadOrMakeManifest } from '../../src-main/core/gguf/manifest/load-or-make-manifest.js';
import { syntheticPresets, writeSyntheticLlama } from '../helpers/synthetic/llama-model.js';
import type { SplitPlan } from '../../src-main/core/planner/plan-types.js';
import type { PeerWarmupReport } from '../../src-main/core/warmup/warm-up.js';
import { runHearth } from '../helpers/cli.js';
import { memberDataDir, startHearth, startMemberWorker, stopped, type Event, type Running } from '../helpers/hearth-process.js';
import { scratchDir, syntheticModel } from '../helpers/models.js';

const clusterKey = randomBytes(32);

interface Worker {
  running: Running;
  cacheDir: string;
  name: string;
  control: string;
}

let model: string;
let peers: string;
let coordinatorData: string;
const workers: Worker[] = [];
const coordinatorEnv = () => ({ ...process.env, HEARTH_DATA_DIR: coordinatorData });

beforeAll(async () => {
  model = await syntheticModel('cacheSized');
  for (const name of ['worker-a', 'worker-b']) {
    workers.push({ ...(await startMemberWorker(clusterKey, name)), control: '' });
  }
  const ready = await Promise.all(workers.map((worker) => worker.running.next('ready')));
  ready.forEach((event, index) => (workers[index]!.control = String(event.control)));
  peers = ready.map((event) => `127.0.0.1:${String(event.linkPort)}`).join(',');
  coordinatorData = await memberDataDir(clusterKey, 'coordinator');
}, 240_000);

afterAll(async () => {
  for (const worker of workers) await stopped(worker.running);
});

async function plan(modelPath: string): Promise<{ plan: SplitPlan; coverage: PeerCoverage[] }> {
  const result = await runHearth(['plan', modelPath, '--peers', peers, '--no-discovery', '--json'], { env: coordinatorEnv() });
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as { plan: SplitPlan; coverage: PeerCoverage[] };
}

/** Each worker's predicted share of `modelPath`: the hashes of the tensors of its devices that the manifest lists. */
async function predictedShares(modelPath: string, split: SplitPlan): Promise<Map<string, { hashes: string[]; bytes: number }>> {
  const manifest = await loadOrMakeManifest({ model: modelPath, dataDir: coordinatorData });
  const byTensor = new Map(manifest.entries.map((entry) => [entry.tensor, entry]));
  const shares = new Map<string, { hashes: string[]; bytes: number }>();
  for (const worker of workers) {
    const entries = split.devices.filter((device) => device.device.machine === worker.name).flatMap((device) => device.tensors).map((tensor) => byTensor.get(tensor.name)).filter((entry) => entry !== undefined);
    shares.set(worker.name, { hashes: entries.map((entry) => entry.hash).sort(), bytes: entries.reduce((sum, entry) => sum + entry.size, 0) });
  }
  return shares;
}

async function cachedHashes(worker: Worker): Promise<string[]> {
  return (await readdir(path.join(worker.cacheDir, 'rpc'))).filter(isEntryName).sort();
}

describe('hearth warm', () => {
  it('shows no coverage for a cold cluster, pushes exactly each peer\'s share, then shows full coverage', async () => {
    const before = await plan(model);
    const shares = await predictedShares(model, before.plan);
    expect(before.coverage.map((peer) => peer.peer).sort()).toEqual(['worker-a', 'worker-b']);
    for (const peer of before.coverage) {
      expect(peer).toMatchObject({ cachedEntries: 0, cachedBytes: 0, shareBytes: shares.get(peer.peer)!.bytes, shareEntries: shares.get(peer.peer)!.hashes.length, error: null });
      expect(peer.shareEntries).toBeGreaterThan(0);
    }
    const text = await runHearth(['plan', model, '--peers', peers, '--no-discovery'], { env: coordinatorEnv() });
    expect(text.stdout).toMatch(/Cache coverage/);
    expect(text.stdout).toMatch(/worker-a: 0 of \d+ entries, 0 B of [\d.]+ MiB \(0%\)/);

    const warm = await runHearth(['warm', model, '--peers', peers, '--no-discovery', '--json'], { env: coordinatorEnv() });
    expect(warm.code, warm.stderr).toBe(0);
    const events = warm.stdout.trim().split('\n').map((line) => JSON.parse(line) as Event);
    const progress = events.filter((event) => event.event === 'progress') as unknown as WarmupProgress[];
    expect(new Set(progress.map((event) => event.peer))).toEqual(new Set(['worker-a', 'worker-b']));
    expect(progress.some((event) => event.state === 'pushing')).toBe(true);
    const done = events.at(-1) as { event: string; peers: (PeerWarmupReport & { name: string })[] };
    expect(done.event).toBe('done');
    for (const peer of done.peers) {
      const share = shares.get(peer.name)!;
      // Exactly its share crossed its link: no more (another peer's tensors), no less.
      expect(peer).toMatchObject({ state: 'done', pushedBytes: share.bytes, filledBytes: 0, fetchedBytes: 0, entries: share.hashes.length, cachedEntries: 0, bytesDone: share.bytes, bytesTotal: share.bytes });
    }
    // Each cache holds its share and nothing else; together they are every listed tensor not kept on this machine.
    const manifest = await loadOrMakeManifest({ model, dataDir: coordinatorData });
    const hostTensors = new Set(before.plan.host.tensors.map((tensor) => tensor.name));
    const offHost = manifest.entries.filter((entry) => !hostTensors.has(entry.tensor)).map((entry) => entry.hash).sort();
    const all: string[] = [];
    for (const worker of workers) {
      const cached = await cachedHashes(worker);
      expect(cached, worker.name).toEqual(shares.get(worker.name)!.hashes);
      all.push(...cached);
    }
    expect(all.sort()).toEqual(offHost);

    const after = await plan(model);
    for (const peer of after.coverage) expect(peer.cachedBytes, peer.peer).toBe(peer.shareBytes);
  }, 180_000);

  it('sends nothing the second time', async () => {
    const warm = await runHearth(['warm', model, '--peers', peers, '--no-discovery', '--json'], { env: coordinatorEnv() });
    expect(warm.code, warm.stderr).toBe(0);
    const done = JSON.parse(warm.stdout.trim().split('\n').at(-1)!) as { peers: PeerWarmupReport[] };
    for (const peer of done.peers) expect(peer).toMatchObject({ state: 'done', pushedBytes: 0, entries: 0, cachedEntries: peer.entriesTotal });
  }, 120_000);

  it('leaves a load after it nothing to send: every cached tensor on each worker comes from its cache, live in load-progress', async () => {
    const load = startHearth(['load', model, '--peers', peers, '--no-discovery', '--port', '0', '--json'], { HEARTH_DATA_DIR: coordinatorData });
    try {
      const ready = await load.next('ready');
      const cache = ready.cache as LoadCacheProgress[];
      expect(cache.map((peer) => peer.peer).sort()).toEqual(['worker-a', 'worker-b']);
      for (const peer of cache) expect(peer, peer.peer).toMatchObject({ entriesFromCache: peer.entriesTotal, entriesTransferred: 0 });
      expect(load.events.some((event) => event.event === 'load-progress')).toBe(true);
      // The workers' own statistics of the load: no entry missed.
      for (const worker of workers) {
        const summary = (await (await fetch(new URL('v1/cache', worker.control))).json()) as { currentLoad: { hits: number; misses: number } | null };
        const expected = cache.find((peer) => peer.peer === worker.name)!.entriesTotal;
        expect(summary.currentLoad, worker.name).toMatchObject({ hits: expected, misses: 0 });
      }
    } finally {
      expect(await stopped(load), load.stderr()).toBe(0);
    }
  }, 180_000);

  it('stops on Ctrl-C with what arrived kept, resumes after a kill without sending it again, and hearth plan --watch follows live', async () => {
    // A model no cache has seen, pushed slowly enough to be interrupted in the middle.
    const fresh = path.join(scratchDir(), 'fresh.gguf');
    await writeSyntheticLlama(fresh, { ...syntheticPresets.cacheSized, seed: 11, name: 'hearth-fresh' });
    const split = (await plan(fresh)).plan;
    const shares = await predictedShares(fresh, split);
    const total = [...shares.values()].reduce((sum, share) => sum + share.bytes, 0);
    const entries = [...shares.values()].reduce((sum, share) => sum + share.hashes.length, 0);
    const slowWarm = () => startHearth(['warm', fresh, '--peers', peers, '--no-discovery', '--max-rate', '8M', '--json'], { HEARTH_DATA_DIR: coordinatorData });
    /** Entries in the peers' caches by the latest progress events. */
    const entriesDone = (events: Event[]) => {
      const last = new Map<string, number>();
      for (const event of events) if (event.event === 'progress') last.set(String(event.peer), Number(event.entriesDone));
      return [...last.values()].reduce((sum, count) => sum + count, 0);
    };

    // Ctrl-C: a clean stop, exit code 130, the reports say cancelled.
    const first = slowWarm();
    await first.next('progress', () => entriesDone(first.events) >= 1);
    first.child.kill('SIGINT');
    expect(await first.exit, first.stderr()).toBe(130);
    const cancelled = (await first.next('cancelled')) as { peers: PeerWarmupReport[] };
    expect(cancelled.peers.some((peer) => peer.state === 'cancelled')).toBe(true);

    // A kill in the middle of a push: no chance to clean up at all.
    const second = slowWarm();
    await second.next('progress', () => entriesDone(second.events) >= 4);
    const arrived = entriesDone(second.events);
    second.child.kill('SIGKILL');
    await second.exit;
    expect(arrived, 'the kill came before the end').toBeLessThan(entries);

    const watch = startHearth(['plan', fresh, '--peers', peers, '--no-discovery', '--watch', '--json'], { HEARTH_DATA_DIR: coordinatorData });
    try {
      await watch.next('coverage');
      const third = await runHearth(['warm', fresh, '--peers', peers, '--no-discovery', '--json'], { env: coordinatorEnv() });
      expect(third.code, third.stderr).toBe(0);
      const done = JSON.parse(third.stdout.trim().split('\n').at(-1)!) as { peers: PeerWarmupReport[] };
      const pushed = done.peers.reduce((sum, peer) => sum + peer.pushedBytes, 0);
      console.log(`resumed warm-up: ${arrived} of ${entries} entries had arrived; pushed ${pushed} of ${total} bytes now, ${done.peers.reduce((sum, peer) => sum + peer.resumedBytes, 0)} kept from the cut push`);
      for (const peer of done.peers) {
        // Every byte of the share is accounted for: already there, kept from a cut push, or sent now.
        expect(peer.cachedBytes + peer.resumedBytes + peer.pushedBytes, peer.peer).toBe(peer.bytesTotal);
        expect(peer.state).toBe('done');
      }
      // The remainder only: what had arrived (whole entries, and any part a worker kept of the cut one) was not sent again.
      expect(done.peers.reduce((sum, peer) => sum + peer.cachedEntries, 0)).toBeGreaterThanOrEqual(arrived);
      expect(pushed).toBe(total - done.peers.reduce((sum, peer) => sum + peer.cachedBytes + peer.resumedBytes, 0));
      expect(pushed).toBeLessThan(total);
      for (const worker of workers) expect(await cachedHashes(worker)).toEqual(expect.arrayContaining(shares.get(worker.name)!.hashes));

      // The watching plan saw the coverage rise to the whole share while the warm-up ran.
      const full = (event: Event) => (event.peers as PeerCoverage[]).every((peer) => peer.cachedBytes === peer.shareBytes);
      await watch.next('coverage', full);
      const seen = watch.events.filter((event) => event.event === 'coverage');
      expect(seen.length).toBeGreaterThan(1);
      expect(full(seen[0]!)).toBe(false);
    } finally {
      expect(await stopped(watch), watch.stderr()).toBe(0);
    }
  }, 240_000);

  it('moves shares: when the plan changes, a peer fetches what another member holds instead of this machine pushing it', async () => {
    const moved = path.join(scratchDir(), 'moved.gguf');
    await writeSyntheticLlama(moved, { ...syntheticPresets.cacheSized, seed: 13, name: 'hearth-moved' });
    // The workers reach each other through their own secure links.
    const ready = await Promise.all(workers.map((worker) => worker.running.next('ready')));
    for (const [index, worker] of workers.entries()) {
      const other = ready[1 - index]!;
      const added = await fetch(new URL('v1/peers', worker.control), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ address: `127.0.0.1:${String(other.linkPort)}` }) });
      expect(added.status, await added.text()).toBe(201);
    }
    const devices = (await plan(moved)).plan.devices.map((device) => device.device.id);
    const [holder] = devices;
    // First everything on one worker (pushed from here), then the usual split.
    const all = await runHearth(['warm', moved, '--peers', peers, '--no-discovery', '--share', `${devices[0]}=1`, '--share', `${devices[1]}=0`, '--json'], { env: coordinatorEnv() });
    expect(all.code, all.stderr).toBe(0);
    const split = await runHearth(['warm', moved, '--peers', peers, '--no-discovery', '--json'], { env: coordinatorEnv() });
    expect(split.code, split.stderr).toBe(0);
    const done = JSON.parse(split.stdout.trim().split('\n').at(-1)!) as { peers: PeerWarmupReport[] };
    const other = done.peers.find((peer) => !holder!.startsWith(peer.peerId))!;
    expect(other).toMatchObject({ state: 'done', pushedBytes: 0, fetchedBytes: other.bytesTotal });
    expect(other.bytesTotal).toBeGreaterThan(0);
    for (const peer of done.peers) expect(peer.pushedBytes, peer.peer).toBe(0);
  }, 180_000);
});
