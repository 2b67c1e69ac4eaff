// A real cluster on one machine: three network namespaces on a bridge (10.77.0.0/24), a
// Hearth worker in each, discovery over real multicast, pairing by code, and a model split
// across two workers by `hearth load` itself (the real planner, manifest, announcement and gateway).
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTools } from '../../../src-main/core/native/tools.js';
import { HEARTH_BIN, REPO_ROOT } from '../../helpers/cli.js';
import { startLlamaServer } from '../../helpers/llama-server.js';
import { scratchDir, syntheticModel } from '../../helpers/models.js';
import { canCreateNamespaces, createLab, type Lab, type LabHost } from '../../helpers/netns.js';

const namespaces = await canCreateNamespaces();
if (!namespaces.ok) console.log(`Skipping the cluster test: ${namespaces.reason}`);

const PROMPT = 'Three machines, one model';
const TOKENS = 8;

interface Machine {
  host: LabHost;
  dataDir: string;
  cacheDir: string;
  process: ChildProcess;
  ready: { linkPort: number; fingerprint: string; deviceId: string };
}

/** Lines of a child's stdout as parsed JSON, one at a time. */
function jsonLines(child: ChildProcess): AsyncIterator<string> {
  return createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
}

/** One greedy completion through an OpenAI-compatible endpoint: its text. */
const COMPLETION = { model: 'any', prompt: PROMPT, max_tokens: TOKENS, temperature: 0, top_k: 1, seed: 1, ignore_eos: true, cache_prompt: false };

async function completionText(url: string): Promise<string> {
  const answer = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(COMPLETION) });
  return ((await answer.json()) as { choices: { text: string }[] }).choices[0]!.text;
}

/** The same request, made from inside a lab machine (its loopback is its own). */
async function completeInside(lab: Lab, machine: Machine, url: string): Promise<string> {
  const script = `fetch(${JSON.stringify(url)}, { method: 'POST', headers: { 'content-type': 'application/json' }, body: ${JSON.stringify(JSON.stringify(COMPLETION))} }).then((r) => r.json()).then((j) => process.stdout.write(JSON.stringify(j)))`;
  const child = lab.exec(machine.host, process.execPath, ['-e', script]);
  let stdout = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  await new Promise((resolve) => child.once('exit', resolve));
  return (JSON.parse(stdout) as { choices: { text: string }[] }).choices[0]!.text;
}

interface ReadyEvent {
  api: string;
  plan: { rpcPeers: string[] };
  cache: { entriesTotal: number }[];
}

/** The `ready` line of `hearth load --json`, or undefined when it ended first. */
async function readyEvent(child: ChildProcess): Promise<ReadyEvent | undefined> {
  for await (const line of createInterface({ input: child.stdout! })) {
    const event = JSON.parse(line) as { event?: string };
    if (event.event === 'ready') return event as unknown as ReadyEvent;
  }
  return undefined;
}

/** Run a short `hearth` command inside a host and return its JSON result. */
async function hearthIn(lab: Lab, machine: Machine, args: string[]): Promise<Record<string, unknown>> {
  const child = lab.exec(machine.host, process.execPath, [HEARTH_BIN, ...args, '--json', '--cache-dir', machine.cacheDir], {
    cwd: REPO_ROOT,
    env: { ...process.env, HEARTH_DATA_DIR: machine.dataDir },
  });
  let stdout = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const result = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
  if (code !== 0) throw new Error(`hearth ${args.join(' ')} failed: ${stdout}`);
  return result;
}

describe.skipIf(!namespaces.ok)('a cluster of three machines', () => {
  let lab: Lab;
  let machines: Machine[];
  let local: string;
  let model: string;

  beforeAll(async () => {
    const tools = await ensureTools();
    model = await syntheticModel('cacheSized');
    const reference = await startLlamaServer({ llamaServer: tools.llamaServer, cwd: tools.cwd, env: tools.env, model, args: ['-ngl', '0'] });
    local = await completionText(`${reference.url}/v1/completions`);
    await reference.stop();

    lab = await createLab({ hosts: 3 });
    machines = await Promise.all(
      lab.hosts.map(async (host) => {
        const dataDir = scratchDir('hearth-data-');
        const cacheDir = scratchDir('hearth-cache-');
        const child = lab.exec(host, process.execPath, [HEARTH_BIN, 'worker', '--json', '--port', '0', '--rpc-port', '0', '--link-host', host.address, '--cache-dir', cacheDir], {
          cwd: REPO_ROOT,
          env: { ...process.env, HEARTH_DATA_DIR: dataDir },
        });
        const lines = jsonLines(child);
        for (;;) {
          const { value, done } = await lines.next();
          if (done) throw new Error(`the worker in ${host.name} exited before it was ready`);
          const event = JSON.parse(String(value)) as { event: string };
          if (event.event === 'ready') return { host, dataDir, cacheDir, process: child, ready: event as unknown as Machine['ready'] };
        }
      }),
    );
  }, 300_000);

  afterAll(async () => {
    await lab?.destroy();
  });

  it('starts as three separate clusters', () => {
    expect(new Set(machines.map((machine) => machine.ready.fingerprint)).size).toBe(3);
  });

  it('pairs both workers with the coordinator by code', async () => {
    const [coordinator, ...workers] = machines;
    for (const worker of workers) {
      const shown = await hearthIn(lab, coordinator!, ['pair', '--show']);
      expect(shown.code).toMatch(/^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
      const joined = await hearthIn(lab, worker, ['pair', String(shown.code)]);
      expect(joined.fingerprint).toBe(coordinator!.ready.fingerprint);
    }
  }, 60_000);

  it('hearth load finds both workers by mDNS, loads across them through the secure link, and answers through the OpenAI API as a local load does', async () => {
    const [coordinator] = machines;
    const load = lab.exec(coordinator!.host, process.execPath, [HEARTH_BIN, 'load', model, '--json', '--port', '0', '--wait', '5'], {
      cwd: REPO_ROOT,
      env: { ...process.env, HEARTH_DATA_DIR: coordinator!.dataDir },
    });
    let stderr = '';
    load.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => load.once('exit', resolve));
    try {
      const ready = await readyEvent(load);
      expect(ready, stderr).toBeDefined();
      // The real planner put a share on each worker found by mDNS, and the load went through their links.
      expect(ready!.plan.rpcPeers.sort()).toEqual(machines.slice(1).map((machine) => machine.ready.deviceId).sort());
      expect(ready!.cache.map((peer) => peer.entriesTotal).every((total) => total > 0)).toBe(true);
      // The API lives on the coordinator's loopback: ask it from inside that machine.
      expect(await completeInside(lab, coordinator!, `${ready!.api}/completions`)).toBe(local);
    } finally {
      load.kill('SIGINT');
      await exited;
    }
  }, 240_000);

  it('adds a peer by address, reading its advert through its secure link', async () => {
    const [coordinator, first] = machines;
    const added = (await hearthIn(lab, coordinator!, ['peers', '--add', `${first!.host.address}:${first!.ready.linkPort}`])) as { peer: { advert: { id: string }; member: boolean; source: string } };
    expect(added.peer).toMatchObject({ advert: { id: first!.ready.deviceId }, member: true, source: 'manual' });
  }, 30_000);

  it('revokes a machine: the others get a new key, the revoked one is left outside', async () => {
    const [coordinator, kept, revoked] = machines;
    const result = (await hearthIn(lab, coordinator!, ['pair', '--revoke', revoked!.ready.deviceId])) as { fingerprint: string; updated: string[]; missed: string[] };
    expect(result.fingerprint).not.toBe(coordinator!.ready.fingerprint);
    expect(result.updated).toHaveLength(1);
    expect(result.missed).toEqual([]);
    // The coordinator sees the kept worker in its (new) cluster and the revoked one outside it.
    const deadline = Date.now() + 15_000;
    let peers: { advert: { id: string }; member: boolean }[] = [];
    while (Date.now() < deadline) {
      peers = ((await hearthIn(lab, coordinator!, ['peers'])) as { peers: typeof peers }).peers;
      const member = (id: string) => peers.find((peer) => peer.advert.id === id)?.member;
      if (member(kept!.ready.deviceId) === true && member(revoked!.ready.deviceId) === false) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(peers.find((peer) => peer.advert.id === kept!.ready.deviceId)?.member).toBe(true);
    expect(peers.find((peer) => peer.advert.id === revoked!.ready.deviceId)?.member).toBe(false);
  }, 60_000);

  it('shows a peer of another llama.cpp release as incompatible, with the reason', async () => {
    const [coordinator, , other] = machines;
    const id = '0f0e0d0c-0b0a-4908-8706-050403020100';
    const stranger = lab.exec(other!.host, path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx'), [
      'tests/fixtures/mdns-advertiser.ts', '--id', id, '--name', 'old hearth', '--host', other!.host.address, '--link-port', '7777', '--release', 'v0.0.1',
    ], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    try {
      const deadline = Date.now() + 15_000;
      let seen: { compatible: boolean; reason: string | null } | undefined;
      while (!seen && Date.now() < deadline) {
        const { peers } = (await hearthIn(lab, coordinator!, ['peers'])) as { peers: { advert: { id: string }; compatible: boolean; reason: string | null }[] };
        seen = peers.find((peer) => peer.advert.id === id);
        if (!seen) await new Promise((resolve) => setTimeout(resolve, 500));
      }
      expect(seen).toMatchObject({ compatible: false, reason: expect.stringContaining('v0.0.1') });
    } finally {
      stranger.kill('SIGTERM');
    }
  }, 60_000);
});
