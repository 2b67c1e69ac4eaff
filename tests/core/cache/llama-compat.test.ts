// Cross-checks Hearth's entry names against the real thing: the files `ggml-rpc-server -c` writes
// while llama-server loads a model through it must be named by our Fnv1a64 of each tensor's bytes.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { open, readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect, it, onTestFinished } from 'vitest';
import { Fnv1a64 } from '../../../src-main/core/cache/checksums.js';
import { isEntryName, verifyEntry } from '../../../src-main/core/cache/entry-files.js';
import { inspectModel, type TensorFacts } from '../../../src-main/core/gguf/inspect-model.js';
import { syntheticPresets, writeSyntheticLlama } from '../../helpers/synthetic/llama-model.js';
import { ensureTools } from '../../../src-main/core/native/tools.js';
import { freePort, waitForPort } from '../../../src-main/core/net/free-port.js';
import { startLlamaServer } from '../../helpers/llama-server.js';

// llama.cpp's RPC client sends a hash instead of the data above this size (ggml-rpc.cpp `HASH_THRESHOLD`).
const HASH_THRESHOLD = 10 * 1024 * 1024;

async function tensorHash(model: string, tensor: TensorFacts): Promise<string> {
  const file = await open(model, 'r');
  try {
    const fnv = new Fnv1a64();
    const buffer = Buffer.allocUnsafe(4 << 20);
    for (let done = 0; done < tensor.byteSize; ) {
      const { bytesRead } = await file.read(buffer, 0, Math.min(buffer.length, tensor.byteSize - done), tensor.fileOffset + done);
      if (bytesRead === 0) throw new Error(`${model} ends inside tensor ${tensor.name}`);
      fnv.update(buffer.subarray(0, bytesRead));
      done += bytesRead;
    }
    return fnv.digestHex();
  } finally {
    await file.close();
  }
}

/** Starts `ggml-rpc-server -c` on loopback with its cache under `cacheRoot`, stopped when the test ends. */
async function startRpcServer(tools: Awaited<ReturnType<typeof ensureTools>>, cacheRoot: string): Promise<{ port: number; logs: () => string }> {
  const port = await freePort();
  const child = spawn(tools.rpcServer, ['-H', '127.0.0.1', '-p', String(port), '-c'], {
    cwd: tools.cwd, env: { ...tools.env, LLAMA_CACHE: cacheRoot }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (data: Buffer) => (output += data.toString()));
  child.stderr.on('data', (data: Buffer) => (output += data.toString()));
  let running = true;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  }).then(() => {
    running = false;
  });
  onTestFinished(async () => {
    if (!running) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  });
  await waitForPort('127.0.0.1', port, 30_000, () => running).catch((error: unknown) => {
    throw new Error(`ggml-rpc-server did not start: ${(error as Error).message}\n${output}`);
  });
  return { port, logs: () => output };
}

it('names cache entries exactly as ggml-rpc-server -c does', async () => {
  const tools = await ensureTools();
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'hearth-llama-compat-'));
  onTestFinished(() => rmSync(scratch, { recursive: true, force: true }));
  const model = path.join(scratch, 'model.gguf');
  await writeSyntheticLlama(model, syntheticPresets.cacheSized);
  const facts = await inspectModel(model);
  // llama.cpp always keeps the input embedding on the CPU, so it never reaches the worker
  // (src/llama-model.cpp, "always keep it on the CPU" at `dev_input`).
  const large = facts.tensors.filter((tensor) => tensor.byteSize > HASH_THRESHOLD);
  expect(large.map((tensor) => tensor.name)).toContain('token_embd.weight');
  const sent = large.filter((tensor) => tensor.name !== 'token_embd.weight');
  expect(sent.length).toBeGreaterThan(2);
  const expected = new Map<string, number>();
  for (const tensor of sent) expected.set(await tensorHash(model, tensor), tensor.byteSize);

  const cacheRoot = path.join(scratch, 'cache');
  const rpc = await startRpcServer(tools, cacheRoot);
  const llama = await startLlamaServer({ llamaServer: tools.llamaServer, cwd: tools.cwd, env: tools.env, model, args: ['--rpc', `127.0.0.1:${rpc.port}`, '-ngl', '99'] });
  onTestFinished(() => llama.stop());

  const rpcDir = path.join(cacheRoot, 'rpc');
  const written = (await readdir(rpcDir)).filter(isEntryName);
  expect(new Set(written), `${rpc.logs()}\n${llama.logs()}`).toEqual(new Set(expected.keys()));
  // Our reader accepts what the server wrote: with its sidecar (patched server) or by name.
  for (const hash of written) expect(await verifyEntry(rpcDir, hash)).toEqual({ ok: true, size: expected.get(hash) });
});
