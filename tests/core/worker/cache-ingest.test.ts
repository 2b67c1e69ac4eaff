// Resumable uploads (ingests) through a real worker's control API: cut mid-way, continued at the
// offset the worker reports, verified and admitted on the last byte; and the ingest store's
// bounds, expiry and crash recovery on a real folder.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { appendFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CacheStore } from '../../../src-main/core/cache/cache-store.js';
import { Fnv1a64 } from '../../../src-main/core/cache/checksums.js';
import { digestOf } from '../../../src-main/core/cache/entry-digest.js';
import { verifyEntry } from '../../../src-main/core/cache/entry-files.js';
import { ingestDataPath } from '../../../src-main/core/cache/ingest-files.js';
import { IngestStore } from '../../../src-main/core/cache/ingest-store.js';
import type { RunningWorker } from '../../../src-main/core/worker/run-worker.js';
import { eventually } from '../../helpers/expected-cache.js';
import { forgeFnv1a } from '../../helpers/fnv-forgery.js';
import { scratchDir } from '../../helpers/models.js';
import { control, startTestWorker } from '../../helpers/worker.js';

const MiB = 1024 * 1024;

function entry(size: number): { hash: string; bytes: Buffer } {
  const bytes = randomBytes(size);
  return { hash: new Fnv1a64().update(bytes).digestHex(), bytes };
}

interface Reply {
  status: number;
  json: Record<string, unknown>;
}

/** A resumable PUT of `bytes[offset..]` naming the digest of `bytes`; with `cutAt`, only up to that byte is sent before the socket is destroyed. */
function putFrom(base: string, hash: string, bytes: Buffer, offset: number, options: { cutAt?: number; headers?: Record<string, string> } = {}): Promise<Reply | 'cut'> {
  const headers = {
    'x-hearth-resumable': '1',
    'x-hearth-entry-size': String(bytes.length),
    'x-hearth-offset': String(offset),
    'content-length': String(bytes.length - offset),
    'x-hearth-entry-digest': digestOf(bytes),
    ...options.headers,
  };
  return new Promise((resolve, reject) => {
    const req = request(new URL(`v1/cache/entries/${hash}`, base), { method: 'PUT', headers }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} }));
    });
    if (options.cutAt === undefined) return void req.on('error', reject).end(bytes.subarray(offset));
    req.on('error', () => resolve('cut'));
    req.write(bytes.subarray(offset, options.cutAt));
    // Cut once the worker holds every byte sent, so the test knows exactly what was lost (nothing).
    void eventually(async () => ((await ingestOffset(base, hash)) === options.cutAt ? true : undefined), 10_000, 'the worker to receive the first part')
      .then(() => {
        req.destroy();
        resolve('cut');
      }, reject);
  });
}

async function ingestOffset(base: string, hash: string): Promise<number | undefined> {
  const reply = await control(base, 'GET', `v1/cache/ingests/${hash}`);
  return reply.status === 200 ? (reply.json as { offset: number }).offset : undefined;
}

/** Continue an upload from where the worker says it stands, as a client does after a cut. */
async function resume(base: string, hash: string, bytes: Buffer): Promise<{ reply: Reply; sent: number }> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const offset = (await ingestOffset(base, hash)) ?? 0;
    const reply = (await putFrom(base, hash, bytes, offset)) as Reply;
    if (reply.status !== 409) return { reply, sent: bytes.length - offset };
  }
  throw new Error('the upload never settled on an offset');
}

describe('resumable uploads through the control API', () => {
  let worker: RunningWorker & { cacheRoot: string };
  let base: string;
  const ingestFolders = () => readdir(path.join(worker.cacheRoot, 'ingests'));
  beforeAll(async () => {
    worker = await startTestWorker();
    base = worker.control.url;
  });
  afterAll(() => worker?.stop());

  it('continues a cut upload at the offset reached and ends with a verified entry, sending the bytes about once', async () => {
    const { hash, bytes } = entry(8 * MiB);
    const half = 4 * MiB;
    expect(await putFrom(base, hash, bytes, 0, { cutAt: half })).toBe('cut');
    // The ingest is no entry: not listed, not present, not under the entry's name.
    expect((await control(base, 'POST', 'v1/cache/has', { hashes: [hash] })).json).toEqual({ present: [], missing: [hash] });
    expect(await readdir(path.join(worker.cacheRoot, 'rpc'))).not.toContain(hash);
    expect((await control(base, 'GET', `v1/cache/ingests/${hash}`)).json).toEqual({ hash, size: bytes.length, digest: digestOf(bytes), offset: half });
    expect((await control(base, 'GET', 'v1/cache/ingests')).json).toEqual({ ingests: [{ hash, size: bytes.length, digest: digestOf(bytes), offset: half }] });

    const { reply, sent } = await resume(base, hash, bytes);
    expect(reply).toEqual({ status: 201, json: { hash, created: true } });
    expect(half + sent).toBe(bytes.length);
    expect(await verifyEntry(path.join(worker.cacheRoot, 'rpc'), hash)).toEqual({ ok: true, size: bytes.length });
    const served = await fetch(new URL(`v1/cache/entries/${hash}`, base));
    expect(Buffer.from(await served.arrayBuffer()).equals(bytes)).toBe(true);
    expect((await control(base, 'GET', `v1/cache/ingests/${hash}`)).status).toBe(404);
    expect(await ingestFolders()).toEqual([]);
  });

  it('answers 409 with the ingest\'s offset to a PUT at any other offset, and keeps the ingest', async () => {
    const { hash, bytes } = entry(2 * MiB);
    await putFrom(base, hash, bytes, 0, { cutAt: MiB });
    for (const wrong of [0, MiB + 5, MiB - 1]) {
      const reply = (await putFrom(base, hash, bytes, wrong)) as Reply;
      expect(reply.status, `offset ${wrong}`).toBe(409);
      expect(reply.json).toMatchObject({ offset: MiB, error: expect.stringContaining(`continue from ${MiB}`) });
    }
    expect(await ingestOffset(base, hash)).toBe(MiB);
    // No ingest yet: it must start at 0.
    const fresh = entry(1000);
    expect(await putFrom(base, fresh.hash, fresh.bytes, 10)).toMatchObject({ status: 409, json: { offset: 0 } });
    expect((await control(base, 'DELETE', `v1/cache/ingests/${hash}`)).status).toBe(204);
    expect((await control(base, 'DELETE', `v1/cache/ingests/${hash}`)).status).toBe(404);
    expect(await ingestFolders()).toEqual([]);
  });

  it('refuses bytes that are not the entry with 422, and leaves no entry and no ingest', async () => {
    const before = await readdir(path.join(worker.cacheRoot, 'rpc'));
    const { hash, bytes } = entry(2 * MiB);
    const tampered = Buffer.from(bytes);
    tampered[MiB + 100] = tampered[MiB + 100]! ^ 0xff;
    await putFrom(base, hash, tampered, 0, { cutAt: MiB });
    const { reply } = await resume(base, hash, tampered);
    expect(reply.status).toBe(422);
    expect(reply.json).toMatchObject({ reason: 'hash-mismatch', error: expect.stringContaining(hash) });
    expect((await control(base, 'GET', `v1/cache/ingests/${hash}`)).status).toBe(404);
    expect(await ingestFolders()).toEqual([]);
    expect(await readdir(path.join(worker.cacheRoot, 'rpc'))).toEqual(before);
  });

  it('checks the digest over every byte of a resumed upload, across a restart: a forged first part is refused though the rest is true', async () => {
    const { hash, bytes } = entry(2 * MiB);
    const half = MiB;
    // A first part whose FNV-1a state at `half` is the real one's: with the real rest, the whole has the entry's name.
    const forgedStart = forgeFnv1a(new Fnv1a64().update(bytes.subarray(0, half)).digestHex(), Buffer.alloc(half, 0x42));
    const forged = Buffer.concat([forgedStart, bytes.subarray(half)]);
    expect(new Fnv1a64().update(forged).digestHex()).toBe(hash);
    // A liar starts the upload under the real digest and stops; the worker restarts; the honest pusher continues it.
    await putFrom(base, hash, forged, 0, { cutAt: half, headers: { 'x-hearth-entry-digest': digestOf(bytes) } });
    await worker.stop();
    worker = await startTestWorker({ cacheRoot: worker.cacheRoot });
    base = worker.control.url;
    expect(await ingestOffset(base, hash)).toBe(half);
    const reply = (await putFrom(base, hash, bytes, half)) as Reply;
    expect(reply.status).toBe(422);
    expect(reply.json).toMatchObject({ reason: 'digest-mismatch' });
    expect((await control(base, 'POST', 'v1/cache/has', { hashes: [hash] })).json).toEqual({ present: [], missing: [hash] });
    expect(await ingestFolders()).toEqual([]);
    // Sent whole and true, it is admitted.
    expect(await putFrom(base, hash, bytes, 0)).toEqual({ status: 201, json: { hash, created: true } });
  });

  it('lets an upload that names another digest replace the ingest from 0, but never continue it', async () => {
    const { hash, bytes } = entry(2 * MiB);
    const other = `sha256:${'0'.repeat(64)}`;
    await putFrom(base, hash, bytes, 0, { cutAt: MiB, headers: { 'x-hearth-entry-digest': other } });
    const resumed = (await putFrom(base, hash, bytes, MiB)) as Reply;
    expect(resumed).toMatchObject({ status: 409, json: { offset: 0, error: expect.stringContaining('another digest') } });
    expect(await putFrom(base, hash, bytes, 0)).toEqual({ status: 201, json: { hash, created: true } });
  });

  it('answers 200 without storing again when the entry is already there', async () => {
    const { hash, bytes } = entry(64 * 1024);
    expect(await putFrom(base, hash, bytes, 0)).toEqual({ status: 201, json: { hash, created: true } });
    expect(await putFrom(base, hash, bytes, 0)).toEqual({ status: 200, json: { hash, created: false } });
  });

  it('says what is wrong with a malformed resumable PUT', async () => {
    const { hash, bytes } = entry(1000);
    const cases: [Record<string, string>, number, RegExp][] = [
      [{ 'x-hearth-resumable': 'yes' }, 400, /X-Hearth-Resumable: 1/],
      [{ 'x-hearth-entry-size': 'lots' }, 400, /X-Hearth-Entry-Size must be a whole number/],
      [{ 'x-hearth-offset': '2000' }, 400, /past the end/],
      [{ 'x-hearth-offset': '-1' }, 400, /X-Hearth-Offset must be a whole number/],
    ];
    for (const [headers, status, message] of cases) {
      const reply = (await putFrom(base, hash, bytes, 0, { headers })) as Reply;
      expect(reply.status, JSON.stringify(headers)).toBe(status);
      expect(reply.json.error).toMatch(message);
    }
    const digest = { 'x-hearth-entry-digest': digestOf(bytes) };
    const short = await fetch(new URL(`v1/cache/entries/${hash}`, base), { method: 'PUT', body: bytes.subarray(0, 10), headers: { 'x-hearth-resumable': '1', 'x-hearth-entry-size': '1000', ...digest } });
    expect(short.status).toBe(400);
    expect(((await short.json()) as { error: string }).error).toMatch(/Content-Length must be the bytes from X-Hearth-Offset to the end/);
    const noSize = await fetch(new URL(`v1/cache/entries/${hash}`, base), { method: 'PUT', body: bytes, headers: { 'x-hearth-resumable': '1', ...digest } });
    expect(((await noSize.json()) as { error: string }).error).toMatch(/needs X-Hearth-Entry-Size/);
    const noDigest = await fetch(new URL(`v1/cache/entries/${hash}`, base), { method: 'PUT', body: bytes, headers: { 'x-hearth-resumable': '1', 'x-hearth-entry-size': '1000' } });
    expect(noDigest.status).toBe(400);
    expect(((await noDigest.json()) as { error: string }).error).toMatch(/needs X-Hearth-Entry-Digest/);
    expect((await control(base, 'GET', 'v1/cache/ingests/not-a-hash')).status).toBe(400);
    expect((await control(base, 'POST', `v1/cache/ingests/${hash}`)).status).toBe(405);
    expect(await ingestFolders()).toEqual([]);
  });

  it('keeps an ingest across a restart of the worker; bytes past its checkpoint are dropped and sent again', async () => {
    const { hash, bytes } = entry(3 * MiB);
    await putFrom(base, hash, bytes, 0, { cutAt: 2 * MiB });
    await worker.stop();
    // What a killed worker can leave: bytes written after the last checkpoint (here: garbage).
    await appendFile(ingestDataPath(worker.cacheRoot, hash), randomBytes(12345));
    worker = await startTestWorker({ cacheRoot: worker.cacheRoot });
    base = worker.control.url;
    expect(await ingestOffset(base, hash)).toBe(2 * MiB);
    const { reply, sent } = await resume(base, hash, bytes);
    expect(reply.status).toBe(201);
    expect(sent).toBe(MiB);
    expect(await verifyEntry(path.join(worker.cacheRoot, 'rpc'), hash)).toEqual({ ok: true, size: bytes.length });
  });
});

describe('the ingest store', () => {
  async function openStore(root: string, options: { clock?: () => number; maxIngests?: number; checkpointBytes?: number; capBytes?: number } = {}) {
    const cache = await CacheStore.open({ root, diskBytes: 1024 * MiB });
    if (options.capBytes !== undefined) await cache.setCap(options.capBytes);
    return { cache, ingests: await IngestStore.open({ cache, ...options }) };
  }

  async function* chunks(bytes: Buffer, size: number): AsyncGenerator<Uint8Array> {
    for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
  }

  async function* breaksAfter(bytes: Buffer): AsyncGenerator<Uint8Array> {
    yield bytes;
    throw new Error('connection reset');
  }

  it('bounds how many uploads and how many bytes may be unfinished', async () => {
    const { ingests } = await openStore(scratchDir(), { maxIngests: 2, capBytes: 10 * MiB });
    const [a, b, c] = [entry(1000), entry(1000), entry(1000)];
    expect(await ingests.write(a.hash, 1000, 0, breaksAfter(a.bytes.subarray(0, 10)), () => undefined)).toEqual({ done: false, offset: 10 });
    await ingests.write(b.hash, 1000, 0, breaksAfter(b.bytes.subarray(0, 10)), () => undefined);
    await expect(ingests.write(c.hash, 1000, 0, chunks(c.bytes, 100), () => undefined)).rejects.toThrow(/already holds 2 unfinished uploads/);
    await ingests.remove(a.hash);
    await expect(ingests.write(c.hash, 11 * MiB, 0, chunks(c.bytes, 100), () => undefined)).rejects.toThrow(/exceed the cache's cap/);
    expect(ingests.list().map((ingest) => ingest.hash)).toEqual([b.hash]);
  });

  it('expires uploads unused for a day, at start and when a new one begins', async () => {
    const root = scratchDir();
    let now = Date.now();
    const clock = () => now;
    const first = await openStore(root, { clock });
    const [a, b] = [entry(1000), entry(1000)];
    await first.ingests.write(a.hash, 1000, 0, breaksAfter(a.bytes.subarray(0, 500)), () => undefined);
    now += 23 * 3600_000;
    expect((await openStore(root, { clock })).ingests.get(a.hash)).toEqual({ hash: a.hash, size: 1000, digest: null, offset: 500 });
    now += 2 * 3600_000;
    const later = await openStore(root, { clock });
    expect(later.ingests.list()).toEqual([]);
    expect(await readdir(path.join(root, 'ingests'))).toEqual([]);

    await later.ingests.write(a.hash, 1000, 0, breaksAfter(a.bytes.subarray(0, 500)), () => undefined);
    now += 25 * 3600_000;
    await later.ingests.write(b.hash, 1000, 0, breaksAfter(b.bytes.subarray(0, 500)), () => undefined);
    expect(later.ingests.list().map((ingest) => ingest.hash)).toEqual([b.hash]);
  });

  it('checkpoints while bytes arrive, so a crash loses at most the bytes since the last checkpoint', async () => {
    const root = scratchDir();
    const { ingests } = await openStore(root, { checkpointBytes: 64 * 1024 });
    const { hash, bytes } = entry(MiB);
    // The source never ends: the writer is left hanging, as in a worker killed mid-upload.
    let release = (): void => undefined;
    // 300 KiB (written as one run, then checkpointed), a pause, 20 KiB more (written, less than a checkpoint's worth).
    async function* stalls(): AsyncGenerator<Uint8Array> {
      yield* chunks(bytes.subarray(0, 300 * 1024), 16 * 1024);
      await new Promise((resolve) => setTimeout(resolve, 100));
      yield bytes.subarray(300 * 1024, 320 * 1024);
      await new Promise<void>((resolve) => (release = resolve));
    }
    const hanging = ingests.write(hash, bytes.length, 0, stalls(), () => release());
    await eventually(() => (ingests.get(hash)?.offset === 320 * 1024 ? true : undefined));
    // A second store on the same folder sees what a restart after a crash would: the last checkpoint.
    const afterCrash = await openStore(root);
    expect(afterCrash.ingests.get(hash)?.offset).toBe(300 * 1024);
    release();
    await hanging;
    const outcome = await afterCrash.ingests.write(hash, bytes.length, 300 * 1024, chunks(bytes.subarray(300 * 1024), 100_000), () => undefined);
    expect(outcome).toEqual({ done: true, created: true });
    expect(await verifyEntry(afterCrash.cache.dir, hash)).toEqual({ ok: true, size: bytes.length });
  });

  it('says the disk is full when a write fails while the next bytes are awaited, and rewinds to the checkpoint', async ({ onTestFinished }) => {
    // A 4 MiB tmpfs stands in for the cache's disk (the tests run as root, as the cluster tests do).
    const root = scratchDir('hearth-full-cache-');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', root]);
    onTestFinished(() => void execFileSync('umount', [root]));
    const { ingests } = await openStore(root);
    const { hash, bytes } = entry(2 * MiB);
    const filler = path.join(root, 'filler');
    // The upload starts while there is room; then the disk fills, and its first run's write fails
    // while the store waits for more bytes that come only later.
    async function* fillsUp(): AsyncGenerator<Uint8Array> {
      await writeFile(filler, Buffer.alloc(4 * MiB)).catch(() => undefined); // as much as fits
      yield bytes.subarray(0, MiB);
      await new Promise((resolve) => setTimeout(resolve, 300));
      yield bytes.subarray(MiB);
    }
    await expect(ingests.write(hash, bytes.length, 0, fillsUp(), () => undefined)).rejects.toMatchObject({ code: 'disk-full' });
    expect(ingests.get(hash)?.offset).toBe(0);
    // With room again, the upload continues from where the store rewound to.
    await rm(filler);
    expect(await ingests.write(hash, bytes.length, 0, chunks(bytes, 100_000), () => undefined)).toEqual({ done: true, created: true });
  });

  it('takes an upload over from a write whose connection is not known to be dead yet', async () => {
    const { ingests } = await openStore(scratchDir());
    const { hash, bytes } = entry(200_000);
    let release = (): void => undefined;
    async function* stalls(): AsyncGenerator<Uint8Array> {
      yield bytes.subarray(0, 50_000);
      await new Promise<void>((resolve) => (release = resolve));
      throw new Error('destroyed');
    }
    const stale = ingests.write(hash, bytes.length, 0, stalls(), () => release());
    await eventually(() => (ingests.get(hash)?.offset === 50_000 ? true : undefined));
    const outcome = await ingests.write(hash, bytes.length, 50_000, chunks(bytes.subarray(50_000), 30_000), () => undefined);
    expect(outcome).toEqual({ done: true, created: true });
    expect(await stale).toEqual({ done: false, offset: 50_000 });
  });
});
