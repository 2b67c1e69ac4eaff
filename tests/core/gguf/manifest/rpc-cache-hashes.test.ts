// The manifest's hashes are the names a real `ggml-rpc-server -c` gives its cache entries: load a
// model through a real worker with a real llama-server given the manifest, as `hearth load` does,
// and compare the files it wrote (named by the worker's own hash of the bytes it received).
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { isEntryName } from '../../../../src-main/core/cache/entry-files.js';
import type { HashManifest } from '../../../../src-main/core/gguf/manifest/hash-manifest.js';
import { loadOrMakeManifest } from '../../../../src-main/core/gguf/manifest/load-or-make-manifest.js';
import { rpcManifestEnv, writeRpcManifest } from '../../../../src-main/core/inference/rpc-manifest-file.js';
import { ensureTools } from '../../../../src-main/core/native/tools.js';
import type { RunningWorker } from '../../../../src-main/core/worker/run-worker.js';
import { eventually } from '../../../helpers/expected-cache.js';
import { startLlamaServer } from '../../../helpers/llama-server.js';
import { scratchDir, syntheticModel } from '../../../helpers/models.js';
import { startTestWorker } from '../../../helpers/worker.js';

let worker: RunningWorker & { cacheRoot: string };
let model: string;
let manifest: HashManifest;

beforeAll(async () => {
  model = await syntheticModel('cacheSized');
  // Made before any load, from the file alone.
  manifest = await loadOrMakeManifest({ model, dataDir: scratchDir('hearth-data-') });
  worker = await startTestWorker();
});
afterAll(() => worker?.stop());

it('hashes every listed tensor exactly as llama.cpp names the cache entries it writes', async () => {
  const tools = await ensureTools();
  const rpcManifest = path.join(scratchDir('hearth-rpc-manifest-'), 'model.manifest');
  await writeRpcManifest(rpcManifest, manifest.entries);
  const env = { ...tools.env, ...rpcManifestEnv(rpcManifest) };
  const server = await startLlamaServer({ llamaServer: tools.llamaServer, cwd: tools.cwd, env, model, args: ['--rpc', worker.service.status.endpoint, '-ngl', '99'] });
  await server.stop();

  // token_embd.weight stays on the host CPU (llama.cpp never offloads it), so no worker caches it.
  const offloaded = manifest.entries.filter((entry) => entry.tensor !== 'token_embd.weight');
  expect(offloaded).toHaveLength(manifest.entries.length - 1);
  const dir = path.join(worker.cacheRoot, 'rpc');
  const expected = offloaded.map((entry) => entry.hash).sort();
  const written = await eventually(async () => {
    const names = (await readdir(dir)).filter(isEntryName).sort();
    return names.length >= expected.length ? names : undefined;
  }, 10_000, 'the worker to write its cache entries');
  expect(written).toEqual(expected);
  for (const entry of offloaded) expect((await stat(path.join(dir, entry.hash))).size, entry.tensor).toBe(entry.size);
});
