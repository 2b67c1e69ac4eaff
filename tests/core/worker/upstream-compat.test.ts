// Hearth's worker and cache stay compatible with unpatched llama.cpp of the same release.
import { spawn } from 'node:child_process';
import { cp, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { beforeAll, describe, expect, it } from 'vitest';
import { isEntryName } from '../../../src-main/core/cache/entry-files.js';
import { ensureTools, type LlamaTools } from '../../../src-main/core/native/tools.js';
import { freePort, waitForPort } from '../../../src-main/core/net/free-port.js';
import { eventually, expectedEntries } from '../../helpers/expected-cache.js';
import { startLlamaServer, type Completion } from '../../helpers/llama-server.js';
import { scratchDir, syntheticModel } from '../../helpers/models.js';
import { ensureUpstreamRpc } from '../../helpers/upstream-tools.js';
import { startTestWorker } from '../../helpers/worker.js';

const PROMPT = 'Compatible with upstream';
let tools: LlamaTools;
let upstream: LlamaTools;
let model: string;
let local: Completion;

async function complete(llamaServer: string, cwd: string, args: string[]): Promise<Completion> {
  const server = await startLlamaServer({ llamaServer, cwd, env: tools.env, model, args });
  try {
    return await server.complete(PROMPT, 8);
  } finally {
    await server.stop();
  }
}

beforeAll(async () => {
  tools = await ensureTools();
  upstream = await ensureUpstreamRpc();
  model = await syntheticModel('cacheSized');
  local = await complete(tools.llamaServer, tools.cwd, ['-ngl', '0']);
}, 10 * 60_000);

describe('compatibility with unpatched llama.cpp', () => {
  it('an unpatched ggml-rpc-server -c loads from the entries a Hearth worker wrote', async () => {
    const worker = await startTestWorker();
    await complete(tools.llamaServer, tools.cwd, ['--rpc', worker.service.status.endpoint, '-ngl', '99']);
    await worker.stop();
    const dir = path.join(worker.cacheRoot, 'rpc');
    const entries = (await readdir(dir)).filter(isEntryName);
    expect(entries.sort()).toEqual((await expectedEntries(model)).map((entry) => entry.hash).sort());
    const mtimes = await Promise.all(entries.map(async (name) => (await stat(path.join(dir, name))).mtimeMs));

    const port = await freePort();
    const server = spawn(upstream.rpcServer, ['-H', '127.0.0.1', '-p', String(port), '-c'], { cwd: upstream.cwd, env: { ...upstream.env, LLAMA_CACHE: worker.cacheRoot } });
    const output: string[] = [];
    createInterface({ input: server.stderr }).on('line', (line) => output.push(line));
    createInterface({ input: server.stdout }).on('line', (line) => output.push(line));
    try {
      await waitForPort('127.0.0.1', port, 30_000);
      expect(await complete(tools.llamaServer, tools.cwd, ['--rpc', `127.0.0.1:${port}`, '-ngl', '99'])).toEqual(local);
    } finally {
      server.kill('SIGKILL');
    }
    // Every large tensor came from Hearth's entries: upstream saved nothing new and rewrote nothing.
    expect(output.filter((line) => line.includes('saved to'))).toEqual([]);
    expect(await Promise.all(entries.map(async (name) => (await stat(path.join(dir, name))).mtimeMs))).toEqual(mtimes);
  });

  it('an unpatched llama-server (upstream RPC client) loads through a Hearth worker, warm from its cache', async () => {
    // Hearth's llama-server with upstream's RPC backend module: the RPC client is exactly upstream's.
    const binDir = scratchDir('hearth-upstream-client-');
    await cp(tools.binDir, binDir, { recursive: true, verbatimSymlinks: true });
    const rpcModule = (await readdir(upstream.binDir)).find((name) => /ggml-rpc\.(so|dll|dylib)$/.test(name))!;
    await rm(path.join(binDir, rpcModule));
    await cp(path.join(upstream.binDir, rpcModule), path.join(binDir, rpcModule));
    const llamaServer = path.join(binDir, path.basename(tools.llamaServer));

    const worker = await startTestWorker();
    try {
      const args = ['--rpc', worker.service.status.endpoint, '-ngl', '99'];
      expect(await complete(llamaServer, binDir, args)).toEqual(local);
      const before = worker.service.cache.summary().lifetime.hits;
      expect(await complete(llamaServer, binDir, args)).toEqual(local);
      const expected = await expectedEntries(model);
      await eventually(() => (worker.service.cache.summary().lifetime.hits - before === expected.length ? true : undefined), 10_000, 'every entry to be hit');
    } finally {
      await worker.stop();
    }
  });
});
