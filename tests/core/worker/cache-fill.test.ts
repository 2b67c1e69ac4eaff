// Filling a real worker's cache from its own copy of a model (`--models DIR`): found by the
// tensors' content hashes, whatever the file is called, admitted verified, and then hit by a real
// llama-server load through that worker.
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, open, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isEntryName, verifyEntry } from '../../../src-main/core/cache/entry-files.js';
import { ensureTools, type LlamaTools } from '../../../src-main/core/native/tools.js';
import { runWorker, type RunningWorker } from '../../../src-main/core/worker/run-worker.js';
import { eventually, expectedEntries, type ExpectedEntry } from '../../helpers/expected-cache.js';
import { forgeFnv1a } from '../../helpers/fnv-forgery.js';
import { startLlamaServer, type Completion } from '../../helpers/llama-server.js';
import { scratchDir, syntheticModel } from '../../helpers/models.js';
import { control } from '../../helpers/worker.js';

const PROMPT = 'Filled from the disk next to it';
const TOKENS = 8;

let tools: LlamaTools;
let model: string;
let expected: ExpectedEntry[];
let modelsDir: string;
let cacheRoot: string;
let dataDir: string;
let worker: RunningWorker;
let base: string;

function start(modelDirs?: string[]): Promise<RunningWorker> {
  return runWorker({ tools, cacheRoot, dataDir, modelDirs, host: '127.0.0.1', rpcPort: 0, controlPort: 0, initialBackoffMs: 100 });
}

beforeAll(async () => {
  tools = await ensureTools();
  model = await syntheticModel('cacheSized');
  expected = await expectedEntries(model);
  modelsDir = scratchDir('hearth-models-dir-');
  // A name that says nothing: the match is by content.
  await copyFile(model, path.join(modelsDir, 'weights-copy.gguf'));
  // What else lives in a models folder: notes, a file that is not GGUF, a truncated download.
  await writeFile(path.join(modelsDir, 'README.txt'), 'my models\n');
  await writeFile(path.join(modelsDir, 'aaa-not-a-model.gguf'), randomBytes(4096));
  const head = Buffer.alloc(2 * 1024 * 1024);
  const source = await open(model, 'r');
  await source.read(head, 0, head.length, 0);
  await source.close();
  await writeFile(path.join(modelsDir, 'zzz-truncated.gguf'), head);
  cacheRoot = scratchDir('hearth-fill-cache-');
  dataDir = scratchDir('hearth-fill-data-');
  worker = await start([modelsDir]);
  base = worker.control.url;
});
afterAll(() => worker?.stop());

/** What the coordinator asks for: each entry's name, size and digest from its manifest. */
function asked(entries: readonly ExpectedEntry[]): { hash: string; size: number; digest: string }[] {
  return entries.map(({ hash, size, digest }) => ({ hash, size, digest }));
}

async function entryFiles(): Promise<string[]> {
  return (await readdir(path.join(cacheRoot, 'rpc'))).filter(isEntryName).sort();
}

describe('filling the cache from a local copy of the model', () => {
  it('makes exactly the wanted entries, verified, skipping files that are not usable models', async () => {
    const wanted = expected.map((entry) => entry.hash);
    const reply = await control(base, 'POST', 'v1/cache/fill', { entries: asked(expected) });
    expect(reply.status).toBe(200);
    const result = reply.json as { filled: string[]; bytes: number; missing: string[]; present: string[]; warnings: string[] };
    expect(result.filled.sort()).toEqual([...wanted].sort());
    expect(result.bytes).toBe(expected.reduce((sum, entry) => sum + entry.size, 0));
    expect(result.missing).toEqual([]);
    expect(result.warnings.join('\n')).toMatch(/aaa-not-a-model\.gguf/);
    expect(result.warnings.join('\n')).not.toMatch(/README/);
    // Exactly these: not the token embedding (which stays on the host), nothing else from the file.
    expect(await entryFiles()).toEqual([...wanted].sort());
    for (const entry of expected) expect(await verifyEntry(path.join(cacheRoot, 'rpc'), entry.hash)).toEqual({ ok: true, size: entry.size });
  });

  it('then serves a real llama-server load entirely from those entries', async () => {
    const local = await complete(['-ngl', '0']);
    const loadsBefore = worker.service.cache.summary().loads;
    const through = await complete(['--rpc', worker.service.status.endpoint, '-ngl', '99']);
    expect(through).toEqual(local);
    const load = await eventually(() => {
      const { lastLoad, loads } = worker.service.cache.summary();
      return loads > loadsBefore ? lastLoad ?? undefined : undefined;
    }, 10_000, 'the RPC client to disconnect');
    expect(load).toMatchObject({ hits: expected.length, misses: 0, stores: 0 });
  });

  it('reports entries already present, and hashes no local file holds, having looked at every file', async () => {
    const unknown = '0123456789abcdef';
    const reply = await control(base, 'POST', 'v1/cache/fill', { entries: [...asked([expected[0]!]), { hash: unknown, size: 10, digest: `sha256:${'0'.repeat(64)}` }] });
    const result = reply.json as { filled: string[]; present: string[]; missing: string[]; warnings: string[] };
    expect(result).toMatchObject({ filled: [], bytes: 0, present: [expected[0]!.hash], missing: [unknown] });
    expect(result.warnings.join('\n')).toMatch(/zzz-truncated\.gguf.*truncated/);
  });

  it('keeps the model folders as a setting, checked, across restarts', async () => {
    expect((await control(base, 'GET', 'v1/settings')).json).toMatchObject({ modelDirs: [modelsDir] });
    const cases: [unknown, RegExp][] = [
      ['not-a-list', /"modelDirs" must be a list/],
      [['relative/models'], /not an absolute folder path/],
      [[path.join(modelsDir, 'nope')], /no such folder/],
      [[path.join(modelsDir, 'README.txt')], /no such folder/],
    ];
    for (const [modelDirs, message] of cases) {
      const reply = await control(base, 'PATCH', 'v1/settings', { modelDirs });
      expect(reply.status, JSON.stringify(modelDirs)).toBe(400);
      expect((reply.json as { error: string }).error).toMatch(message);
    }
    expect((await control(base, 'GET', 'v1/settings')).json).toMatchObject({ modelDirs: [modelsDir] });
    expect((await control(base, 'PATCH', 'v1/settings', { modelDirs: [] })).json).toMatchObject({ modelDirs: [] });
    const none = (await control(base, 'POST', 'v1/cache/fill', { entries: [{ hash: '0123456789abcdef', size: 10, digest: `sha256:${'0'.repeat(64)}` }] })).json as { missing: string[]; warnings: string[] };
    expect(none).toMatchObject({ missing: ['0123456789abcdef'], warnings: [expect.stringMatching(/no model folders/)] });
    await control(base, 'PATCH', 'v1/settings', { modelDirs: [modelsDir] });

    await worker.stop();
    worker = await start();
    base = worker.control.url;
    expect((await control(base, 'GET', 'v1/settings')).json).toMatchObject({ modelDirs: [modelsDir] });
  });

  it('answers a malformed fill with a 400 that says what was wrong', async () => {
    const { hash, size } = expected[0]!;
    for (const body of [{}, { entries: 'abc' }, { entries: [{ hash: 'XYZ', size, digest: expected[0]!.digest }] }, { hashes: [hash] }, { entries: [{ hash, size }] }]) {
      const reply = await control(base, 'POST', 'v1/cache/fill', body);
      expect(reply.status, JSON.stringify(body)).toBe(400);
      expect((reply.json as { error: string }).error).toMatch(/entries/);
    }
  });

  it('never fills an entry from a local tensor that only shares its FNV-1a name (a forged copy of the model)', async () => {
    const victim = expected[0]!;
    // A copy of the model whose tensor has other bytes with the same FNV-1a 64, alone in a folder.
    const forgedDir = scratchDir('hearth-forged-models-');
    await mkdir(forgedDir, { recursive: true });
    const copy = path.join(forgedDir, 'forged.gguf');
    await copyFile(model, copy);
    const file = await open(copy, 'r+');
    await file.write(forgeFnv1a(victim.hash, Buffer.alloc(victim.size, 0x42)), 0, victim.size, victim.offset);
    await file.close();
    expect((await control(base, 'DELETE', `v1/cache/entries/${victim.hash}`)).status).toBe(204);
    await control(base, 'PATCH', 'v1/settings', { modelDirs: [forgedDir] });
    try {
      const result = (await control(base, 'POST', 'v1/cache/fill', { entries: asked([victim]) })).json as { filled: string[]; missing: string[]; warnings: string[] };
      expect(result).toMatchObject({ filled: [], missing: [victim.hash] });
      expect(result.warnings.join('\n')).toMatch(new RegExp(`forged\\.gguf, tensor ${victim.tensor}: has the name of entry ${victim.hash} but not its size or digest`));
      expect(await entryFiles()).not.toContain(victim.hash);
    } finally {
      await control(base, 'PATCH', 'v1/settings', { modelDirs: [modelsDir] });
    }
  });
});

async function complete(args: string[]): Promise<Completion> {
  const server = await startLlamaServer({ llamaServer: tools.llamaServer, cwd: tools.cwd, env: tools.env, model, args });
  try {
    return await server.complete(PROMPT, TOKENS);
  } finally {
    await server.stop();
  }
}
