// `hearth plan`, `hearth load` and `hearth chat` as a user runs them, against two real Hearth
// workers of one cluster on loopback (peers given by address), with the real llama-server.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, readdir, truncate } from 'node:fs/promises';
import path from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isEntryName } from '../../src-main/core/cache/entry-files.js';
import { isCachedTensor, RPC_HASH_THRESHOLD } from '../../src-main/core/gguf/inspect-model.js';
import { loadOrMakeManifest } from '../../src-main/core/gguf/manifest/load-or-make-manifest.js';
import { ensureTools } from '../../src-main/core/native/tools.js';
import type { SplitPlan } from '../../src-main/core/planner/plan-types.js';
import { runHearth } from '../helpers/cli.js';
import { memberDataDir, startHearth, startMemberWorker, stopped, type Running } from '../helpers/hearth-process.js';
import { startLlamaServer } from '../helpers/llama-server.js';
import { scratchDir, syntheticModel } from '../helpers/models.js';

const PROMPT = 'A hearth in every home lab';
const TOKENS = 16;
const clusterKey = randomBytes(32);

let model: string;
let peers: string;
let coordinatorData: string;
const workers: { running: Running; cacheDir: string; name: string }[] = [];

beforeAll(async () => {
  model = await syntheticModel('cacheSized');
  for (const name of ['worker-a', 'worker-b']) {
    workers.push(await startMemberWorker(clusterKey, name));
  }
  const ports = await Promise.all(workers.map(async (worker) => Number((await worker.running.next('ready')).linkPort)));
  peers = ports.map((port) => `127.0.0.1:${port}`).join(',');
  coordinatorData = await memberDataDir(clusterKey, 'coordinator');
}, 240_000);

afterAll(async () => {
  for (const worker of workers) await stopped(worker.running);
});

describe('hearth plan', () => {
  it('plans the split across both member workers and says it fits', async () => {
    const result = await runHearth(['plan', model, '--peers', peers, '--no-discovery', '--json'], { env: { ...process.env, HEARTH_DATA_DIR: coordinatorData } });
    expect(result.code, result.stderr).toBe(0);
    const { plan } = JSON.parse(result.stdout) as { plan: SplitPlan };
    expect(plan.fits).toBe(true);
    expect(plan.devices.map((device) => device.device.machine).sort()).toEqual(['worker-a', 'worker-b']);
    expect(plan.rpcPeers).toHaveLength(2);
    expect(plan.args).toContain('--tensor-split');
    // Every block and the output layer are placed on exactly one device; the token embedding stays here.
    const placed = plan.devices.flatMap((device) => device.tensors.map((tensor) => tensor.name));
    expect(new Set(placed).size).toBe(placed.length);
    expect(placed).toContain('output.weight');
    expect(plan.host.tensors.map((tensor) => tensor.name)).toContain('token_embd.weight');
  });

  it('refuses a context that cannot fit, saying by how much, with exit code 1', async () => {
    const result = await runHearth(['plan', model, '--peers', peers, '--no-discovery', '--ctx', '100000000'], { env: { ...process.env, HEARTH_DATA_DIR: coordinatorData } });
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toMatch(/does not fit at context 100000000/);
    expect(result.stdout).toMatch(/short/);
    expect(result.stdout).toMatch(/What would fit/);
  });
});

describe('hearth load and hearth chat', () => {
  it('serves the split model through the OpenAI API with the greedy output of a local load, and chat talks to it', async () => {
    const tools = await ensureTools();
    // Greedy and a fixed length (end-of-sequence ignored). The byte pieces are banned: from random
    // weights they make invalid UTF-8, which llama-server's output parser answers with a 500.
    const noBytePieces = Object.fromEntries(Array.from({ length: 256 }, (_, byte) => [String(3 + byte), -100]));
    const body = { model: 'any', prompt: PROMPT, max_tokens: TOKENS, temperature: 0, top_k: 1, seed: 1, ignore_eos: true, cache_prompt: false, logit_bias: noBytePieces };
    const local = await startLlamaServer({ llamaServer: tools.llamaServer, cwd: tools.cwd, env: tools.env, model, args: ['-ngl', '0'] });
    let expected: string;
    try {
      const response = await fetch(`${local.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expected = ((await response.json()) as { choices: { text: string }[] }).choices[0]!.text;
    } finally {
      await local.stop();
    }

    const load = startHearth(['load', model, '--peers', peers, '--no-discovery', '--port', '0', '--json'], { HEARTH_DATA_DIR: coordinatorData });
    try {
      const ready = await load.next('ready');
      const plan = ready.plan as SplitPlan;
      const client = new OpenAI({ baseURL: String(ready.api), apiKey: 'unused-on-loopback' });
      const completion = await client.completions.create(body);
      expect(completion.choices[0]!.text).toBe(expected);
      expect(expected.length).toBeGreaterThan(0);

      // llama.cpp's RPC client took the hash of every tensor Hearth caches from its manifest (patches 0003, 0005),
      // the ones under upstream's 10 MiB threshold too.
      const onWorkers = plan.devices.flatMap((device) => device.tensors).filter(isCachedTensor);
      expect(onWorkers.some((tensor) => tensor.byteSize <= RPC_HASH_THRESHOLD)).toBe(true);
      expect(ready.hashes).toEqual({ fromManifest: onWorkers.length, hashed: 0, refused: null });

      // Each worker's cache holds what the plan sent it: the load went through both.
      const manifest = await loadOrMakeManifest({ model, dataDir: coordinatorData });
      const hashOf = new Map(manifest.entries.map((entry) => [entry.tensor, entry.hash]));
      for (const worker of workers) {
        const device = plan.devices.find((candidate) => candidate.device.machine === worker.name)!;
        const predicted = device.tensors.map((tensor) => hashOf.get(tensor.name)).filter((hash) => hash !== undefined).sort();
        expect(predicted.length, `${worker.name} takes part`).toBeGreaterThan(0);
        const cached = (await readdir(path.join(worker.cacheDir, 'rpc'))).filter(isEntryName).sort();
        expect(cached, worker.name).toEqual(predicted);
      }

      // hearth chat finds the served model through the data folder, no address needed.
      const chat = await runHearth(['chat', '--message', 'Hello', '--max-tokens', '8', '--temperature', '0', '--json'], { env: { ...process.env, HEARTH_DATA_DIR: coordinatorData } });
      expect(chat.code, chat.stderr).toBe(0);
      const answer = JSON.parse(chat.stdout) as { event: string; tokens: number; content: string };
      expect(answer.event).toBe('answer');
      expect(answer.tokens).toBeGreaterThan(0);
    } finally {
      expect(await stopped(load), load.stderr()).toBe(0);
    }
    expect(existsSync(path.join(coordinatorData, 'api.json'))).toBe(false);
    const after = await runHearth(['chat', '--message', 'Hello'], { env: { ...process.env, HEARTH_DATA_DIR: coordinatorData } });
    expect(after.code).toBe(1);
    expect(after.stderr).toMatch(/No model is being served on this machine/);
  });

  it('refuses a truncated model with a one-line error and starts nothing', async () => {
    const broken = path.join(scratchDir(), 'broken.gguf');
    await copyFile(model, broken);
    await truncate(broken, 60 * 2 ** 20);
    const result = await runHearth(['load', broken, '--peers', peers, '--no-discovery', '--port', '0'], { env: { ...process.env, HEARTH_DATA_DIR: coordinatorData } });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain(broken);
    expect(result.stderr).toMatch(/truncated/);
    expect(existsSync(path.join(coordinatorData, 'api.json'))).toBe(false);
  });
});
