// The UI's whole path through the real core, on loopback: a HearthCore (as the app and
// `hearth serve` run it) with two real member workers added by address — open a synthetic model,
// see its plan, change shares and exclusions, pre-warm to full coverage, load from the caches
// alone, chat with tokens streaming — and bad input that changes nothing.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatText, ModelSession } from '../../../src-main/core/api/contract.js';
import { HearthCore } from '../../../src-main/core/host/hearth-core.js';
import { hearthPaths } from '../../../src-main/core/base/paths.js';
import { memberDataDir, startMemberWorker, stopped, type Running } from '../../helpers/hearth-process.js';
import { scratchDir, syntheticModel } from '../../helpers/models.js';

const clusterKey = randomBytes(32);
const WAIT_MS = 120_000;
const workers: { running: Running; name: string }[] = [];
let core: HearthCore;
let model: string;

beforeAll(async () => {
  model = await syntheticModel('cacheSized');
  for (const name of ['worker-a', 'worker-b']) workers.push(await startMemberWorker(clusterKey, name));
  const ready = await Promise.all(workers.map((worker) => worker.running.next('ready')));
  core = await HearthCore.start({
    paths: { cacheDir: hearthPaths().cacheDir, dataDir: await memberDataDir(clusterKey, 'coordinator') },
    workerPort: 0, controlPort: 0, linkPort: 0, apiPort: 0, discovery: false, tensorCacheDir: scratchDir(),
  });
  await core.whenWorkerReady();
  for (const event of ready) await core.requests.addPeer({ host: '127.0.0.1', port: Number(event.linkPort) });
}, WAIT_MS);

afterAll(async () => {
  await core?.stop();
  for (const worker of workers) await stopped(worker.running);
}, WAIT_MS);

/** The session once it satisfies `done`: now, or at a later push. */
function until(done: (session: ModelSession) => boolean): Promise<ModelSession> {
  return new Promise((resolve) => {
    const check = (session: ModelSession): void => {
      if (!done(session)) return;
      off();
      resolve(session);
    };
    const off = core.on('session', check);
    void core.requests.getSession().then(check);
  });
}

const machines = (session: ModelSession) => [...new Set(session.plan!.devices.map((device) => device.machine))].sort();

describe('the UI contract through the real core', () => {
  it('lists both peers as members of the cluster', async () => {
    const cluster = await core.requests.getCluster();
    expect(cluster.peers.map((peer) => [peer.name, peer.member, peer.online, peer.compatible])).toEqual([['worker-a', true, true, true], ['worker-b', true, true, true]]);
  });

  it('refuses a file that is not GGUF and keeps the session as it was', async () => {
    const before = await core.requests.getSession();
    const bad = path.join(scratchDir(), 'notes.gguf');
    await writeFile(bad, 'just some text, not a model\n');
    await expect(core.requests.openModel({ path: bad })).rejects.toThrow(/GGUF/);
    expect(await core.requests.getSession()).toEqual(before);
  });

  it('opens a model with its facts and a plan over both peers', async () => {
    const session = await core.requests.openModel({ path: model });
    expect(session.model).toMatchObject({ fileName: 'cacheSized.gguf', architecture: 'llama', layers: 2 });
    expect(session.model!.cacheableTensors).toBeGreaterThan(0);
    expect(session.plan).toMatchObject({ fits: true });
    expect(machines(session)).toEqual(['worker-a', 'worker-b']);
    // Coverage arrives once the tensors are hashed: a cold cluster holds nothing of its share.
    const covered = await until((next) => next.coverage.length === 2);
    expect(covered.coverage.map((peer) => peer.cachedBytes)).toEqual([0, 0]);
  }, WAIT_MS);

  it('re-plans as the user changes shares and leaves a peer out, and returns to auto', async () => {
    const { plan } = await core.requests.getSession();
    const a = plan!.devices.find((device) => device.machine === 'worker-a')!;
    const b = plan!.devices.find((device) => device.machine === 'worker-b')!;
    const skewed = await core.requests.setPlanChoices({ contextLength: null, shares: { [a.id]: 1, [b.id]: 3 }, exclude: [] });
    expect(skewed.plan!.devices.find((device) => device.id === b.id)!.share).toBeGreaterThan(skewed.plan!.devices.find((device) => device.id === a.id)!.share);
    const alone = await core.requests.setPlanChoices({ contextLength: 1024, shares: {}, exclude: [b.peerId!] });
    expect(alone.plan!.contextLength).toBe(1024);
    expect(alone.plan!.devices.filter((device) => device.share > 0).map((device) => device.machine)).toEqual(['worker-a']);
    await expect(core.requests.setPlanChoices({ contextLength: null, shares: {}, exclude: [] })).resolves.toMatchObject({ choices: { shares: {}, exclude: [] } });
  }, WAIT_MS);

  it('pre-warms every peer to full coverage, with progress and a byte chart', async () => {
    const done = until((session) => session.warmup?.state === 'done' || session.warmup?.state === 'failed');
    await core.requests.startWarmup({});
    // One long job at a time: a load or a re-plan now would move the same entries over the same links.
    await expect(core.requests.loadModel()).rejects.toThrow(/while a pre-warm runs/);
    await expect(core.requests.setPlanChoices({ contextLength: null, shares: {}, exclude: [] })).rejects.toThrow(/while a pre-warm runs/);
    const session = await done;
    expect(session.warmup!.error).toBeNull();
    expect(session.warmup!.peers).toHaveLength(2);
    for (const peer of session.warmup!.peers) expect(peer.bytesDone).toBe(peer.bytesTotal);
    expect(session.warmup!.samples.at(-1)!.bytes).toBe(session.warmup!.peers.reduce((sum, peer) => sum + peer.pushedBytes + peer.filledBytes + peer.fetchedBytes, 0));
    const covered = await until((next) => next.coverage.every((peer) => peer.cachedBytes === peer.shareBytes));
    expect(covered.coverage).toHaveLength(2);
  }, WAIT_MS);

  it('stops a load in progress when asked, and can load again after', async () => {
    const started = await core.requests.loadModel();
    expect(['hashing', 'loading']).toContain(started.load.state);
    await expect(core.requests.loadModel()).rejects.toThrow(/while a load runs/);
    const stopped = await core.requests.unloadModel();
    expect(stopped.load).toMatchObject({ state: 'idle', api: null });
    // Nothing comes back to life after the stop: a late step of the cancelled load changes nothing.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect((await core.requests.getSession()).load.state).toBe('idle');
    expect(spawnSync('pgrep', ['-P', String(process.pid), 'llama-server']).stdout.toString()).toBe('');
  }, WAIT_MS);

  it('loads from the warm caches alone and chats with tokens streaming', async () => {
    const ready = until((session) => session.load.state === 'ready' || session.load.state === 'failed');
    await core.requests.loadModel();
    const session = await ready;
    expect(session.load.error).toBeNull();
    expect(session.load.api?.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    for (const peer of session.load.cache) expect(peer).toMatchObject({ entriesTransferred: 0, entriesFromCache: peer.entriesTotal });

    const pieces: ChatText[] = [];
    const off = core.on('chatText', (text) => pieces.push(text));
    const reply = await core.requests.sendChat({ id: 'ask-1', messages: [{ role: 'user', content: 'Tell me about the hearth' }], maxTokens: 12, temperature: 0 });
    off();
    expect(reply.stopped).toBe(false);
    expect(reply.tokens).toBeGreaterThan(0);
    expect(pieces.every((piece) => piece.id === 'ask-1')).toBe(true);
    expect(pieces.map((piece) => piece.text).join('')).toBe(reply.content);

    await expect(core.requests.unloadModel()).resolves.toMatchObject({ load: { state: 'idle', api: null } });
    await expect(core.requests.sendChat({ id: 'ask-2', messages: [{ role: 'user', content: 'hi' }] })).rejects.toThrow(/No model is loaded/);
  }, WAIT_MS);
});
