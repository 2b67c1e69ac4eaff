// The RPC client's precomputed hashes (patch 0003-rpc-client-precomputed-hashes), and the smaller
// tensors a manifest lists going by hash and into the cache too (patch 0005): a real llama-server
// with HEARTH_RPC_MANIFEST → a real Hearth worker with its cache, on loopback.
import { existsSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { open, readdir, readFile, statfs, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CacheStats } from '../../../src-main/core/cache/cache-stats.js';
import { Fnv1a64 } from '../../../src-main/core/cache/checksums.js';
import { isEntryName } from '../../../src-main/core/cache/entry-files.js';
import { inspectModel, isCachedTensor, RPC_HASH_THRESHOLD } from '../../../src-main/core/gguf/inspect-model.js';
import { syntheticPresets, writeSyntheticLlama } from '../../helpers/synthetic/llama-model.js';
import {
  formatRpcManifest,
  RPC_MANIFEST_HEADER,
  RPC_MANIFEST_PROBE_BYTES,
  rpcManifestEnv,
  writeRpcManifest,
  type RpcManifestEntry,
} from '../../../src-main/core/inference/rpc-manifest-file.js';
import { ensureTools, type LlamaTools } from '../../../src-main/core/native/tools.js';
import type { RunningWorker } from '../../../src-main/core/worker/run-worker.js';
import { eventually, expectedEntries, type ExpectedEntry } from '../../helpers/expected-cache.js';
import { localCompletion, startLlamaServer, type Completion } from '../../helpers/llama-server.js';
import { scratchDir, syntheticModel } from '../../helpers/models.js';
import { loadThroughWorker, startTestWorker } from '../../helpers/worker.js';

const PROMPT = 'The warm hearth of the cluster';
const run = promisify(execFile);
/** statfs(2)'s f_type of tmpfs. */
const TMPFS_MAGIC = 0x01021994;
const TOKENS = 12;

/** What the patched client said about a manifest in one llama-server's output. */
interface ClientReport {
  /** Every `hearth-rpc-client` line. */
  lines: string[];
  /** The last summary line's figures. */
  summary?: { path: string; fromManifest: number; hashed: number; refused: string };
  /** Tensors whose manifest hash was checked in full against the data. */
  checked: string[];
}

interface Run {
  completion: Completion;
  load: CacheStats;
  client: ClientReport;
}

const SUMMARY = /^hearth-rpc-client manifest (.*): (\d+) tensors from the manifest, (\d+) hashed, refused: (.*)$/;
const CHECKED = /^hearth-rpc-client manifest .*: (\S+) checked in full, its hash matches$/;

let tools: LlamaTools;
let model: string;
/** The manifest of the model, computed here from the file, independently of the client. */
let entries: RpcManifestEntry[];
/** The entries a worker holding every offloaded layer caches with the manifest (every listed tensor but the token embedding). */
let expected: ExpectedEntry[];
/** The ones it caches without (or with a refused) manifest: upstream's, over its hash threshold. */
let upstream: ExpectedEntry[];
let local: Completion;
let manifests: string;

/** FNV-1a 64 of the first 4096 bytes followed by the last 4096 (one running hash). */
function probeOf(bytes: Uint8Array): string {
  const n = Math.min(RPC_MANIFEST_PROBE_BYTES, bytes.length);
  return new Fnv1a64().update(bytes.subarray(0, n)).update(bytes.subarray(bytes.length - n)).digestHex();
}

/** The manifest entry of every tensor Hearth caches, read from the GGUF file. */
async function manifestEntries(file: string): Promise<RpcManifestEntry[]> {
  const facts = await inspectModel(file);
  const handle = await open(file, 'r');
  try {
    const result: RpcManifestEntry[] = [];
    for (const tensor of facts.tensors.filter(isCachedTensor)) {
      const bytes = Buffer.alloc(tensor.byteSize);
      await handle.read(bytes, 0, tensor.byteSize, tensor.fileOffset);
      result.push({ tensor: tensor.name, size: tensor.byteSize, hash: new Fnv1a64().update(bytes).digestHex(), probe: probeOf(bytes) });
    }
    return result;
  } finally {
    await handle.close();
  }
}

function clientReport(logs: string): ClientReport {
  const lines = logs.split('\n').filter((line) => line.startsWith('hearth-rpc-client'));
  const last = lines.map((line) => SUMMARY.exec(line)).filter((match) => match !== null).at(-1);
  return {
    lines,
    summary: last ? { path: last[1]!, fromManifest: Number(last[2]), hashed: Number(last[3]), refused: last[4]! } : undefined,
    checked: lines.map((line) => CHECKED.exec(line)?.[1]).filter((name) => name !== undefined),
  };
}

/** Greedy output through `worker` with the manifest at `manifest` (none: plain llama-server), the client's lines and the worker's stats for the load. */
async function loadThrough(worker: RunningWorker, manifest?: string): Promise<Run> {
  const env = manifest === undefined ? tools.env : { ...tools.env, ...rpcManifestEnv(manifest) };
  const { completion, load, logs } = await loadThroughWorker(tools, worker, model, PROMPT, TOKENS, env);
  return { completion, load, client: clientReport(logs) };
}

/** A manifest file in the scratch folder, written through the writer. */
async function manifestFile(name: string, list: RpcManifestEntry[]): Promise<string> {
  const file = path.join(manifests, `${name}.manifest`);
  await writeRpcManifest(file, list);
  return file;
}

/** `entries` with one entry changed. */
function changed(tensor: string, change: Partial<RpcManifestEntry>): RpcManifestEntry[] {
  return entries.map((entry) => (entry.tensor === tensor ? { ...entry, ...change } : entry));
}

/** A different 16-hex value of the same length. */
function flipped(hex: string): string {
  return (hex[0] === '0' ? '1' : '0') + hex.slice(1);
}

/** Why what of `file` the page cache holds cannot be seen or dropped here, or null. */
async function pageCacheUnobservable(file: string): Promise<string | null> {
  if (process.platform !== 'linux') return 'needs Linux';
  if ((await statfs(file)).type === TMPFS_MAGIC) return `cannot drop a file on tmpfs (${path.dirname(file)})`;
  return run('fincore', ['--version']).then(() => null, () => 'needs util-linux\'s fincore');
}

/** Drop `file` from the page cache (GNU dd's `nocache`: POSIX_FADV_DONTNEED over the whole file). */
async function dropFromPageCache(file: string): Promise<void> {
  await run('dd', [`if=${file}`, 'iflag=nocache', 'count=0', 'status=none']);
}

/** Bytes of `file` in the page cache (util-linux `fincore`). */
async function cachedBytes(file: string): Promise<number> {
  const { stdout } = await run('fincore', ['--bytes', '--noheadings', '--output', 'RES', file]);
  return Number(stdout.trim());
}

async function entryFiles(worker: { cacheRoot: string }): Promise<string[]> {
  return (await readdir(path.join(worker.cacheRoot, 'rpc'))).filter(isEntryName).sort();
}

beforeAll(async () => {
  tools = await ensureTools();
  model = await syntheticModel('cacheSized');
  manifests = scratchDir('hearth-manifests-');
  entries = await manifestEntries(model);
  expected = await expectedEntries(model, 'manifest');
  upstream = await expectedEntries(model, 'upstream');
  local = await localCompletion(tools, model, PROMPT, TOKENS);
});

describe('the manifest file', () => {
  it('is the header and one tab-separated line per tensor, written atomically', async () => {
    const list = [
      { tensor: 'blk.0.ffn_up.weight', size: 11534336, hash: '0123456789abcdef', probe: 'fedcba9876543210' },
      { tensor: 'output.weight', size: 16777216, hash: 'aaaaaaaaaaaaaaaa', probe: 'bbbbbbbbbbbbbbbb' },
    ];
    expect(formatRpcManifest(list)).toBe(`${RPC_MANIFEST_HEADER}\nblk.0.ffn_up.weight\t11534336\t0123456789abcdef\tfedcba9876543210\noutput.weight\t16777216\taaaaaaaaaaaaaaaa\tbbbbbbbbbbbbbbbb\n`);
    const file = path.join(manifests, 'nested', 'unit.manifest');
    await writeRpcManifest(file, list);
    await writeRpcManifest(file, list.slice(1)); // replaces the old file
    expect(await readFile(file, 'utf8')).toBe(formatRpcManifest(list.slice(1)));
    expect(await readdir(path.dirname(file))).toEqual(['unit.manifest']); // no temporary file left
    expect(rpcManifestEnv(file)).toEqual({ HEARTH_RPC_MANIFEST: file });
  });

  it('refuses to write what the client would refuse', async () => {
    const good = { tensor: 'a', size: 20, hash: '0123456789abcdef', probe: '0123456789abcdef' };
    const file = path.join(manifests, 'refused.manifest');
    for (const bad of [
      { ...good, tensor: 'a\tb' },
      { ...good, tensor: 'a\nb' },
      { ...good, tensor: '' },
      { ...good, size: 0 },
      { ...good, size: 1.5 },
      { ...good, hash: '0123456789ABCDEF' },
      { ...good, probe: '0123' },
    ]) {
      await expect(writeRpcManifest(file, [bad])).rejects.toMatchObject({ code: 'rpc-manifest-invalid' });
    }
    await expect(writeRpcManifest(file, [good, good])).rejects.toThrow(/listed twice/);
    await expect(writeRpcManifest(file, [good, { ...good, tensor: 'b', probe: 'ffffffffffffffff' }])).rejects.toThrow(/has the hash of a/);
    expect(existsSync(file)).toBe(false);
    expect((await readdir(manifests)).filter((name) => name.includes('.tmp-'))).toEqual([]);
  });
});

describe('loads with a manifest, through a Hearth worker', () => {
  let worker: RunningWorker & { cacheRoot: string };
  let good: string;
  /** The tensor the client sets first: the one it checks in full. */
  let first: string;
  /** A tensor the client sets later, where a bad entry is not caught by the full check. */
  let later: ExpectedEntry;
  let warmBytesWithManifest: number;
  /** Sets that go by hash when the manifest is refused at the first one: that one, then upstream's. */
  const hashedOnceFirstRefused = (): number => upstream.length + (upstream.some((entry) => entry.tensor === first) ? 0 : 1);

  beforeAll(async () => {
    worker = await startTestWorker();
    good = await manifestFile('good', entries);
  });
  afterAll(() => worker?.stop());

  it('a cold then a warm load take every listed tensor\'s hash from the manifest, the smaller ones too, and the warm one hits every entry', async () => {
    // The manifest lists tensors under upstream's threshold, which upstream would always send.
    expect(expected.filter((entry) => entry.size <= RPC_HASH_THRESHOLD).length).toBeGreaterThan(0);
    const cold = await loadThrough(worker, good);
    expect(cold.completion).toEqual(local);
    expect(cold.client.summary).toEqual({ path: good, fromManifest: expected.length, hashed: 0, refused: 'none' });
    expect(cold.client.checked).toHaveLength(1);
    first = cold.client.checked[0]!;
    later = expected.find((entry) => entry.tensor !== first)!;
    expect(cold.load).toMatchObject({ misses: expected.length, stores: expected.length, hits: 0 });
    expect(await entryFiles(worker)).toEqual(expected.map((entry) => entry.hash).sort());

    const warm = await loadThrough(worker, good);
    expect(warm.completion).toEqual(local);
    expect(warm.client.summary).toEqual({ path: good, fromManifest: expected.length, hashed: 0, refused: 'none' });
    expect(warm.client.checked).toEqual([first]);
    const cachedBytes = expected.reduce((sum, entry) => sum + entry.size, 0);
    expect(warm.load).toMatchObject({ hits: expected.length, misses: 0, stores: 0, bytesFromCache: cachedBytes });
    warmBytesWithManifest = warm.load.bytesReceived;
  });

  it('a warm load takes one connection to the worker, and the coordinator reads none of the tensors the worker holds (patches 0007, 0008)', async (context) => {
    const unsupported = await pageCacheUnobservable(model);
    if (unsupported) {
      console.log(`Skipping the page cache check of a warm load: it ${unsupported}`);
      return context.skip(unsupported);
    }
    const opens: unknown[] = [];
    const onCache = (event: { kind: string }) => void (event.kind === 'client-open' && opens.push(event));
    worker.service.on('cache', onCache);
    const loadsBefore = worker.service.cache.summary().loads;
    // Pages a llama-server that just ended still maps are not dropped: try until it is gone.
    await eventually(async () => {
      await dropFromPageCache(model);
      return (await cachedBytes(model)) < 2 ** 20 ? true : undefined;
    }, 10_000, 'the model file to leave the page cache');
    const server = await startLlamaServer({ llamaServer: tools.llamaServer, cwd: tools.cwd, env: { ...tools.env, ...rpcManifestEnv(good) }, model, args: ['--rpc', worker.service.status.endpoint, '-ngl', '99'] });
    try {
      expect(await server.complete(PROMPT, TOKENS)).toEqual(local);
    } finally {
      await server.stop();
    }
    // Upstream maps the whole file with MAP_POPULATE and MADV_WILLNEED, reading all of it from
    // disk. Here only what stays on this machine (the token embedding, the small tensors), the
    // probes and the one tensor checked in full are read.
    const { fileBytes } = await inspectModel(model);
    const offloaded = expected.reduce((sum, entry) => sum + entry.size, 0);
    const largest = Math.max(...expected.map((entry) => entry.size));
    expect(await cachedBytes(model)).toBeLessThan(fileBytes - offloaded + largest + 2 * 2 ** 20);
    // The next load's figures must not take this one's end for theirs.
    await eventually(() => (worker.service.cache.summary().loads > loadsBefore ? true : undefined), 10_000, 'the RPC client to disconnect');
    worker.service.off('cache', onCache);
    // Upstream's client opened a connection for each query before the buffers existed: six.
    expect(opens).toHaveLength(1);
  });

  it('without a manifest the client says nothing and does as upstream: it sends the smaller tensors again', async () => {
    const plain = await loadThrough(worker);
    expect(plain.completion).toEqual(local);
    expect(plain.client.lines).toEqual([]);
    expect(plain.load).toMatchObject({ hits: upstream.length, misses: 0, stores: 0 });
    // Each of those tensors went as a set (tensor, offset, its bytes) instead of a hash request
    // (tensor, offset, an 8-byte hash): exactly its bytes less 8 more on the wire.
    const smaller = expected.filter((entry) => !upstream.some((large) => large.tensor === entry.tensor));
    const extra = plain.load.bytesReceived - warmBytesWithManifest;
    expect(extra).toBe(smaller.reduce((sum, entry) => sum + entry.size - 8, 0));
  });

  it('refuses a manifest with one wrong probe, and hashes from then on', async () => {
    const file = await manifestFile('wrong-probe', changed(later.tensor, { probe: flipped(entries.find((e) => e.tensor === later.tensor)!.probe) }));
    const run = await loadThrough(worker, file);
    expect(run.completion).toEqual(local);
    expect(run.client.summary?.refused).toMatch(new RegExp(`^probe mismatch on ${later.tensor.replaceAll('.', '\\.')} `));
    expect(run.client.lines.filter((line) => line.includes(': refused: '))).toHaveLength(1);
    // The tensors before it had matching probes and used their entries; it and the large ones after were
    // hashed, and the smaller ones after it were sent (as upstream does): every hash asked for hit.
    const { fromManifest, hashed } = run.client.summary!;
    expect(hashed).toBeGreaterThanOrEqual(1);
    expect(fromManifest + hashed).toBeGreaterThanOrEqual(upstream.length);
    expect(fromManifest + hashed).toBeLessThanOrEqual(expected.length);
    expect(run.load).toMatchObject({ hits: fromManifest + hashed, misses: 0 });
  });

  it('refuses the manifest of another model with the same tensor names and sizes at its first tensor', async () => {
    const otherModel = path.join(scratchDir('hearth-other-model-'), 'other.gguf');
    await writeSyntheticLlama(otherModel, { ...syntheticPresets.cacheSized, seed: 77 });
    const other = await manifestEntries(otherModel);
    expect(other.map(({ tensor, size }) => ({ tensor, size }))).toEqual(entries.map(({ tensor, size }) => ({ tensor, size })));
    const file = await manifestFile('other-model', other);
    const run = await loadThrough(worker, file);
    expect(run.completion).toEqual(local);
    expect(run.client.summary).toMatchObject({ fromManifest: 0, hashed: hashedOnceFirstRefused() });
    expect(run.client.summary?.refused).toContain(`probe mismatch on ${first} (the manifest was not made from this model file)`);
    expect(run.client.checked).toEqual([]);
    expect(run.load).toMatchObject({ hits: hashedOnceFirstRefused(), misses: 0 });
  });

  it('a wrong hash with a right probe on the first tensor fails its full check: refused', async () => {
    const entry = entries.find((e) => e.tensor === first)!;
    const file = await manifestFile('wrong-first-hash', changed(first, { hash: flipped(entry.hash) }));
    const run = await loadThrough(worker, file);
    expect(run.completion).toEqual(local);
    expect(run.client.summary).toMatchObject({ fromManifest: 0, hashed: hashedOnceFirstRefused() });
    expect(run.client.summary?.refused).toBe(`hash mismatch on ${first} checked in full: the manifest says ${flipped(entry.hash)}, the data hashes to ${entry.hash}`);
    expect(run.load).toMatchObject({ hits: hashedOnceFirstRefused(), misses: 0 });
  });

  it('a later tensor carrying the hash of another tensor in the manifest is refused when the file is read', async () => {
    const donor = entries.find((e) => e.tensor !== later.tensor && e.tensor !== first)!;
    const list = changed(later.tensor, { hash: donor.hash });
    // The writer will not write it; written by hand, the client will not use it.
    await expect(writeRpcManifest(path.join(manifests, 'copied-hash.manifest'), list)).rejects.toThrow(/has the hash of/);
    const file = path.join(manifests, 'copied-hash.manifest');
    await writeFile(file, `${RPC_MANIFEST_HEADER}\n${list.map((e) => `${e.tensor}\t${e.size}\t${e.hash}\t${e.probe}\n`).join('')}`);
    const run = await loadThrough(worker, file);
    expect(run.completion).toEqual(local);
    expect(run.client.summary).toMatchObject({ fromManifest: 0, hashed: upstream.length });
    expect(run.client.summary?.refused).toMatch(/^malformed: line \d+: tensor (\S+) has the hash of (\S+), whose bytes differ$/);
    expect(run.load).toMatchObject({ hits: upstream.length, misses: 0 });
  });

  it('a wrong hash naming nothing on a later tensor costs one resend, never wrong weights', async () => {
    // The client cannot see this one (its probe is right and it is not the tensor checked in full):
    // the worker has no entry under that name, so the client sends the real bytes, which the worker
    // stores under their own hash. The cache never holds an entry under the wrong name.
    const wrong = 'deadbeefdeadbeef';
    expect(entries.map((e) => e.hash)).not.toContain(wrong);
    const file = await manifestFile('wrong-later-hash', changed(later.tensor, { hash: wrong }));
    const run = await loadThrough(worker, file);
    expect(run.completion).toEqual(local);
    expect(run.client.summary).toEqual({ path: file, fromManifest: expected.length, hashed: 0, refused: 'none' });
    expect(run.load).toMatchObject({ hits: expected.length - 1, misses: 1, stores: 1 });
    expect(await entryFiles(worker)).toEqual(expected.map((entry) => entry.hash).sort());
  });

  const malformed: [string, (text: string) => string | null, RegExp][] = [
    ['a wrong first line', (text) => text.replace(RPC_MANIFEST_HEADER, 'hearth-rpc-manifest 2'), /^malformed: line 1: not "hearth-rpc-manifest 1"$/],
    ['a truncated last line', (text) => text.slice(0, -5), /^malformed: line \d+: no newline at its end \(a truncated file\?\)$/],
    ['a hash that is not hex', (text) => text.replace(/\t[0-9a-f]{16}\t/, '\t0123456789abcdeg\t'), /^malformed: line 2: the hash is not 16 lowercase hex digits$/],
    ['no file at all', () => null, /^unreadable: No such file or directory$/],
  ];
  it.each(malformed)('a manifest with %s: a clear line, then every tensor hashed', async (what, damage, reason) => {
    const file = path.join(manifests, `malformed-${what.replaceAll(' ', '-')}.manifest`);
    const text = damage(formatRpcManifest(entries));
    if (text !== null) await writeFile(file, text);
    const run = await loadThrough(worker, file);
    expect(run.completion).toEqual(local);
    expect(run.client.summary).toMatchObject({ path: file, fromManifest: 0, hashed: upstream.length });
    expect(run.client.summary?.refused).toMatch(reason);
    expect(run.load).toMatchObject({ hits: upstream.length, misses: 0 });
  });
});
