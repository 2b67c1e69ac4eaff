// The bounds Hearth's patches put on what a client of ggml-rpc-server can make it write, against
// the real server, spoken to in its own protocol with what llama.cpp's client never sends: an
// offset near 2^64 (whose sum with a size wraps), a set past its tensor, a part of a tensor after
// its hash was asked. Two 4 KiB tensors share one buffer, A first; every attack aims at B and
// would land on A (or abort the server).
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Crc32c, Fnv1a64 } from '../../../src-main/core/cache/checksums.js';
import { checkPath, entryPath, formatCheck } from '../../../src-main/core/cache/entry-files.js';
import { ensureTools } from '../../../src-main/core/native/tools.js';
import { freePort } from '../../../src-main/core/net/free-port.js';
import { startRpcServer, type RpcServer } from '../../../src-main/core/worker/rpc-server.js';
import { scratchDir } from '../../helpers/models.js';
import { RpcWireClient, type WireTensor } from '../../helpers/rpc-wire-client.js';

const TENSOR_BYTES = 4096;
/** An offset that, added to TENSOR_BYTES * 2, wraps to TENSOR_BYTES: past a sum check, it points one tensor back. */
const WRAPPING_OFFSET = 2n ** 64n - BigInt(TENSOR_BYTES);

let server: RpcServer;
let cacheDir: string;
let client: RpcWireClient;
let a: WireTensor;
let b: WireTensor;

beforeEach(async () => {
  const cacheRoot = scratchDir('hearth-rpc-bounds-');
  cacheDir = path.join(cacheRoot, 'rpc');
  server = await startRpcServer({ tools: await ensureTools(), host: '127.0.0.1', port: await freePort(), cacheRoot, threads: 1 });
  ({ client } = await RpcWireClient.connect(server.endpoint));
  const { buffer } = await client.allocBuffer(2 * TENSOR_BYTES);
  const base = await client.bufferBase(buffer);
  a = { id: 1n, buffer, data: base, bytes: TENSOR_BYTES };
  b = { id: 2n, buffer, data: base + BigInt(TENSOR_BYTES), bytes: TENSOR_BYTES };
  client.setTensor(a, 0n, filled(TENSOR_BYTES, 0xaa));
});

afterEach(async () => {
  client.close();
  await server.stop();
});

describe('ggml-rpc-server with Hearth\'s patches', () => {
  it('answers "miss" for a cached entry asked for at an offset near 2^64 (0006), and the tensor before stays as it was', async () => {
    // An entry as large as both tensors: read at B's data + the wrapped offset, it would cover A.
    const hash = await plantEntry(filled(2 * TENSOR_BYTES, 0x55));
    expect(await client.setTensorHash(b, WRAPPING_OFFSET, hash)).toBe(false);
    expect(await client.getTensor(a, 0n, TENSOR_BYTES)).toEqual(filled(TENSOR_BYTES, 0xaa));
    await expectServerUp();
  });

  it('still loads an entry that fits its tensor (the bound is not a refusal of everything)', async () => {
    const hash = await plantEntry(filled(TENSOR_BYTES, 0x33));
    expect(await client.setTensorHash(b, 0n, hash)).toBe(true);
    expect(await client.getTensor(b, 0n, TENSOR_BYTES)).toEqual(filled(TENSOR_BYTES, 0x33));
    expect(await client.getTensor(a, 0n, TENSOR_BYTES)).toEqual(filled(TENSOR_BYTES, 0xaa));
  });

  it('refuses a set at an offset near 2^64 (0005): it closes that connection instead of writing over the tensor before', async () => {
    client.setTensor(b, WRAPPING_OFFSET, filled(2 * TENSOR_BYTES, 0x55));
    // Upstream's own check (offset + size <= nbytes in ggml_backend_tensor_set) wraps and lets it through onto A.
    // (A reset rather than a close: the next command was already on its way.)
    await expect(client.getTensor(a, 0n, TENSOR_BYTES)).rejects.toThrow(/closed|ECONNRESET/);
    await expectServerUp();
  });

  it('refuses a set that runs past its tensor: the connection closes, the server does not abort', async () => {
    client.setTensor(a, 0n, filled(2 * TENSOR_BYTES, 0x55));
    // Upstream's assert in ggml_backend_tensor_set aborts the whole server here (the socket is reset).
    await expect(client.getTensor(a, 0n, TENSOR_BYTES)).rejects.toThrow(/closed|ECONNRESET/);
    await expectServerUp();
  });

  it('stores a set whose hash missed only when it is the whole tensor asked for (0005), never a part of it', async () => {
    const part = filled(100, 0x77);
    expect(await client.setTensorHash(b, 0n, fnv(filled(TENSOR_BYTES, 0x77)))).toBe(false);
    client.setTensor(b, 0n, part);
    await client.getTensor(b, 0n, 4); // commands run in order: the set (and any store) is done once this answers
    expect(existsSync(entryPath(cacheDir, fnvHex(part)))).toBe(false);

    const whole = filled(TENSOR_BYTES, 0x99);
    expect(await client.setTensorHash(b, 0n, fnv(whole))).toBe(false);
    client.setTensor(b, 0n, whole);
    await client.getTensor(b, 0n, 4);
    expect(existsSync(entryPath(cacheDir, fnvHex(whole)))).toBe(true);
  });
});

/** The server still answers a new client, and its process is alive. */
async function expectServerUp(): Promise<void> {
  // The server serves one client at a time: the next is answered once this one is gone.
  client.close();
  const { client: fresh, version } = await RpcWireClient.connect(server.endpoint);
  fresh.close();
  expect(version).toMatch(/^\d+\.\d+\.\d+$/);
  expect(await Promise.race([server.exited.then(() => 'exited'), new Promise((resolve) => setTimeout(() => resolve('running'), 200))])).toBe('running');
}

/** Put `bytes` in the server's cache folder as an entry with its sidecar, as the server itself writes them. */
async function plantEntry(bytes: Buffer): Promise<bigint> {
  await mkdir(cacheDir, { recursive: true });
  const name = fnvHex(bytes);
  await writeFile(entryPath(cacheDir, name), bytes);
  await writeFile(checkPath(cacheDir, name), formatCheck({ crc32c: new Crc32c().update(bytes).digest(), size: bytes.length }));
  return BigInt(`0x${name}`);
}

function filled(bytes: number, value: number): Buffer {
  return Buffer.alloc(bytes, value);
}

function fnvHex(bytes: Uint8Array): string {
  return new Fnv1a64().update(bytes).digestHex();
}

function fnv(bytes: Uint8Array): bigint {
  return BigInt(`0x${fnvHex(bytes)}`);
}
