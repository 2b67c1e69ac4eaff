import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { open, readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Fnv1a64 } from '../../../src-main/core/cache/checksums.js';
import { digestOf } from '../../../src-main/core/cache/entry-digest.js';
import type { RunningWorker } from '../../../src-main/core/worker/run-worker.js';
import { forgeFnv1a } from '../../helpers/fnv-forgery.js';
import { control, startTestWorker } from '../../helpers/worker.js';

let worker: RunningWorker & { cacheRoot: string };
let base: string;

beforeAll(async () => {
  worker = await startTestWorker();
  base = worker.control.url;
});
afterAll(() => worker?.stop());

function entry(size = 64 * 1024): { hash: string; bytes: Buffer } {
  const bytes = randomBytes(size);
  return { hash: new Fnv1a64().update(bytes).digestHex(), bytes };
}

/** PUT an entry with the digest of `bytes` (or `digest`: the one the pusher's manifest names). */
async function put(hash: string, bytes: Uint8Array, headers: Record<string, string> = {}, digest = digestOf(bytes)): Promise<Response> {
  return fetch(new URL(`v1/cache/entries/${hash}`, base), { method: 'PUT', body: bytes, headers: { 'x-hearth-entry-digest': digest, ...headers } });
}

/** The cache folder's file names: what any request leaves behind. */
async function files(): Promise<string[]> {
  return (await readdir(path.join(worker.cacheRoot, 'rpc'))).sort();
}

describe('the worker control API', () => {
  it('reports status, devices and the cache', async () => {
    const status = await control(base, 'GET', 'v1/status');
    expect(status.status).toBe(200);
    expect(status.json).toMatchObject({ release: expect.any(String), worker: { state: 'serving', endpoint: expect.stringMatching(/^127\.0\.0\.1:\d+$/) } });
    const devices = (await control(base, 'GET', 'v1/devices')).json as { devices: { name: string }[] };
    expect(devices.devices.map((device) => device.name)).toContain('CPU');
    expect((await control(base, 'GET', 'v1/cache')).json).toMatchObject({ entries: expect.any(Number), capBytes: expect.any(Number) });
  });

  it('admits a verified put atomically, answers has, serves it back, deletes it', async () => {
    const { hash, bytes } = entry();
    const created = await put(hash, bytes);
    expect(created.status).toBe(201);
    expect((await put(hash, bytes)).status).toBe(200); // already there: verified, not rewritten
    const other = entry().hash;
    expect((await control(base, 'POST', 'v1/cache/has', { hashes: [hash, other] })).json).toEqual({ present: [hash], missing: [other] });
    const got = await fetch(new URL(`v1/cache/entries/${hash}`, base));
    expect(got.status).toBe(200);
    expect(Buffer.from(await got.arrayBuffer()).equals(bytes)).toBe(true);
    expect((await control(base, 'DELETE', `v1/cache/entries/${hash}`)).status).toBe(204);
    expect((await control(base, 'GET', `v1/cache/entries/${hash}`)).status).toBe(404);
  });

  it('refuses a put whose bytes do not match its hash, and leaves nothing behind', async () => {
    const before = await files();
    const { hash, bytes } = entry();
    const tampered = Buffer.from(bytes);
    tampered[100] = tampered[100]! ^ 0xff;
    const refused = await put(hash, tampered);
    expect(refused.status).toBe(422);
    expect(await refused.json()).toMatchObject({ reason: 'hash-mismatch', error: expect.stringContaining(hash) });
    expect(await files()).toEqual(before);
  });

  it('refuses a forged entry, bytes with the entry\'s FNV-1a name but not its digest, with 422, and leaves nothing behind', async () => {
    const before = await files();
    const { hash, bytes } = entry(1024 * 1024);
    const forged = forgeFnv1a(hash, Buffer.alloc(bytes.length, 0x42));
    expect(new Fnv1a64().update(forged).digestHex()).toBe(hash);
    const plainAndResumable: Record<string, string>[] = [{}, { 'x-hearth-resumable': '1', 'x-hearth-entry-size': String(bytes.length) }];
    for (const headers of plainAndResumable) {
      const refused = await put(hash, forged, headers, digestOf(bytes));
      expect(refused.status).toBe(422);
      expect(await refused.json()).toMatchObject({ reason: 'digest-mismatch', error: expect.stringMatching(new RegExp(`Entry ${hash}: .*not ${digestOf(bytes)} as the coordinator's hash manifest says`)) });
    }
    expect(await files()).toEqual(before);
    expect((await control(base, 'POST', 'v1/cache/has', { hashes: [hash] })).json).toEqual({ present: [], missing: [hash] });
    expect((await control(base, 'GET', 'v1/cache/ingests')).json).toEqual({ ingests: [] });
    // The real bytes under the same digest are admitted.
    expect((await put(hash, bytes, {}, digestOf(bytes))).status).toBe(201);
  });

  it('refuses a put that names no digest, or a malformed one, saying what it needs', async () => {
    const { hash, bytes } = entry();
    const bare = await fetch(new URL(`v1/cache/entries/${hash}`, base), { method: 'PUT', body: bytes });
    expect(bare.status).toBe(400);
    expect((await bare.json() as { error: string }).error).toMatch(/needs X-Hearth-Entry-Digest: sha256:<64 hex digits>/);
    const malformed = await put(hash, bytes, {}, `sha256:${'A'.repeat(64)}`);
    expect(malformed.status).toBe(400);
    expect((await control(base, 'POST', 'v1/cache/has', { hashes: [hash] })).json).toEqual({ present: [], missing: [hash] });
  });

  it('leaves nothing behind when a put dies half-way', async () => {
    const before = await files();
    const { hash, bytes } = entry(4 * 1024 * 1024);
    const url = new URL(`v1/cache/entries/${hash}`, base);
    await new Promise<void>((resolve) => {
      const req = request(url, { method: 'PUT', headers: { 'content-length': String(bytes.length), 'x-hearth-entry-digest': digestOf(bytes) } });
      req.on('error', () => resolve());
      req.write(bytes.subarray(0, bytes.length / 2), () => {
        // The connection drops with half the entry sent.
        setTimeout(() => {
          req.destroy();
          resolve();
        }, 100);
      });
    });
    // The worker notices the dropped connection and removes its temporary file.
    for (let i = 0; i < 50 && (await files()).length !== before.length; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await files()).toEqual(before);
    expect((await control(base, 'POST', 'v1/cache/has', { hashes: [hash] })).json).toEqual({ present: [], missing: [hash] });
  });

  it('answers malformed requests with a 4xx that says what was wrong', async () => {
    const cases: [string, string, unknown, number, RegExp][] = [
      ['POST', 'v1/cache/has', { hashes: 'abc' }, 400, /array of entry hashes/],
      ['POST', 'v1/cache/has', { hashes: ['XYZ'] }, 400, /"hashes\[0\]" must be an entry hash/],
      ['POST', 'v1/cache/pins', { hashes: [], ttlSeconds: -5 }, 400, /ttlSeconds/],
      ['PATCH', 'v1/settings', { cacheMaxBytes: 'lots' }, 400, /whole number of bytes/],
      ['POST', 'v1/models', { id: '../evil', name: 'x', hashes: [] }, 400, /"id"/],
      ['GET', 'v1/nothing', undefined, 404, /No such route/],
      ['GET', 'v1/cache/entries/not-a-hash', undefined, 400, /must be an entry hash/],
    ];
    for (const [method, route, body, status, message] of cases) {
      const reply = await control(base, method, route, body);
      expect(reply.status, `${method} ${route}`).toBe(status);
      expect((reply.json as { error: string }).error).toMatch(message);
    }
    // A streamed upload of unknown length: the entry's size must be declared up front.
    const noLength = await new Promise<number>((resolve, reject) => {
      const req = request(new URL(`v1/cache/entries/${entry().hash}`, base), { method: 'PUT', headers: { 'transfer-encoding': 'chunked', 'x-hearth-entry-digest': digestOf(Buffer.from('some bytes')) } }, (res) => resolve(res.statusCode ?? 0));
      req.on('error', reject);
      req.end('some bytes');
    });
    expect(noLength).toBe(411);
  });

  it('changes the cap and evicts down to it, sparing pinned entries', async () => {
    const [a, b] = [entry(), entry()];
    await put(a.hash, a.bytes);
    await put(b.hash, b.bytes);
    const pin = (await control(base, 'POST', 'v1/cache/pins', { hashes: [a.hash], ttlSeconds: 60 })).json as { id: string };
    const settings = await control(base, 'PATCH', 'v1/settings', { cacheMaxBytes: 64 * 1024 });
    expect(settings.json).toMatchObject({ cacheMaxBytes: 64 * 1024, cacheMaxIsDefault: false });
    expect((await control(base, 'POST', 'v1/cache/has', { hashes: [a.hash, b.hash] })).json).toEqual({ present: [a.hash], missing: [b.hash] });
    expect((await control(base, 'DELETE', `v1/cache/pins/${pin.id}`)).status).toBe(204);
    await control(base, 'PATCH', 'v1/settings', { cacheMaxBytes: null });
  });

  it('refuses requests addressed to a foreign host name (DNS rebinding)', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      request(new URL('v1/status', base), { headers: { host: 'evil.example:80' } }, (res) => resolve(res.statusCode ?? 0)).on('error', reject).end();
    });
    expect(status).toBe(403);
  });

  it('does not answer web pages, whatever they ask', async () => {
    const reply = await fetch(new URL('v1/cache/clear', base), { method: 'POST', headers: { origin: 'https://evil.example' } });
    expect(reply.status).toBe(403);
  });

  it('says 400 for a malformed escape in a path', async () => {
    expect((await control(base, 'GET', 'v1/cache/entries/%E0%A4%A')).status).toBe(400);
  });

  it('keeps what a load holds, refuses what cannot fit, and clears a registered model', async () => {
    const held = entry();
    await put(held.hash, held.bytes);
    const pin = (await control(base, 'POST', 'v1/cache/pins', { hashes: [held.hash], ttlSeconds: 60 })).json as { id: string };
    expect((await control(base, 'DELETE', `v1/cache/entries/${held.hash}`)).status).toBe(409);
    await control(base, 'DELETE', `v1/cache/pins/${pin.id}`);

    await control(base, 'PATCH', 'v1/settings', { cacheMaxBytes: 256 * 1024 });
    const big = entry(512 * 1024);
    const refused = await put(big.hash, big.bytes);
    expect(refused.status).toBe(507);
    expect((await refused.json()) as { error: string }).toMatchObject({ error: expect.stringMatching(/does not fit the cache's cap/) });
    await control(base, 'PATCH', 'v1/settings', { cacheMaxBytes: null });

    const [a, b] = [entry(), entry()];
    await put(a.hash, a.bytes);
    await put(b.hash, b.bytes);
    expect((await control(base, 'POST', 'v1/models', { id: 'constructor', name: 'A model with an awkward id', hashes: [a.hash] })).status).toBe(204);
    const summary = (await control(base, 'GET', 'v1/cache')).json as { models: { id: string; entries: number }[] };
    expect(summary.models).toContainEqual(expect.objectContaining({ id: 'constructor', entries: 1 }));
    expect((await control(base, 'POST', 'v1/cache/clear', { model: 'constructor' })).json).toEqual({ entries: 1, bytes: a.bytes.length });
    expect((await control(base, 'POST', 'v1/cache/has', { hashes: [a.hash, b.hash] })).json).toEqual({ present: [b.hash], missing: [a.hash] });
  });

  it('verifies every entry and removes a damaged one; a damaged entry is never served', async () => {
    const victim = entry();
    await put(victim.hash, victim.bytes);
    const file = await open(path.join(worker.cacheRoot, 'rpc', victim.hash), 'r+');
    await file.write(Buffer.from('damage'), 0, 6, 10);
    await file.close();
    expect((await control(base, 'GET', `v1/cache/entries/${victim.hash}`)).status).toBe(404);
    const other = entry();
    await put(other.hash, other.bytes);
    const again = await open(path.join(worker.cacheRoot, 'rpc', other.hash), 'r+');
    await again.truncate(100);
    await again.close();
    const scrub = (await control(base, 'POST', 'v1/cache/verify')).json as { checked: number; damaged: { hash: string; reason: string }[] };
    expect(scrub.damaged).toEqual([{ hash: other.hash, reason: 'size' }]);
    expect((await control(base, 'POST', 'v1/cache/has', { hashes: [other.hash] })).json).toEqual({ present: [], missing: [other.hash] });
  });
});
