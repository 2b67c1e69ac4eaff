// Pushing entries to a real worker and watching its coverage: bytes read from a file at their
// offset, a cut push resumed where the worker's upload stands, a wrong file refused, and a
// watched coverage that follows pushes at once and evictions within a poll.
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PeerCoverage } from '../../../src-main/core/api/contract.js';
import { Fnv1a64 } from '../../../src-main/core/cache/checksums.js';
import { digestOf } from '../../../src-main/core/cache/entry-digest.js';
import type { ManifestEntry } from '../../../src-main/core/gguf/manifest/hash-manifest.js';
import { LinkAgent } from '../../../src-main/core/peers/link/link-agent.js';
import { CoverageWatch } from '../../../src-main/core/warmup/coverage-watch.js';
import { cacheHas, ingestOffset } from '../../../src-main/core/warmup/cache-client.js';
import type { CachePeer } from '../../../src-main/core/warmup/peer-shares.js';
import { pushEntry } from '../../../src-main/core/warmup/push-entry.js';
import type { RunningWorker } from '../../../src-main/core/worker/run-worker.js';
import { control, startTestWorker } from '../../helpers/worker.js';
import { scratchDir } from '../../helpers/models.js';
import { WorkerClient } from '../../../src-main/core/worker-api/worker-client.js';

const SIZE = 4 * 2 ** 20;
const HEADER = 4096;

let worker: RunningWorker;
let peer: CachePeer;
let file: string;
let entries: ManifestEntry[];

beforeAll(async () => {
  worker = await startTestWorker();
  peer = { id: 'worker-id', name: 'test worker', worker: new WorkerClient({ name: 'test worker', baseUrl: worker.control.url }) };
  // A file laid out like a GGUF: a header, then tensors at their offsets.
  const tensors = [randomBytes(SIZE), randomBytes(SIZE), randomBytes(SIZE)];
  file = path.join(scratchDir(), 'model.bin');
  await writeFile(file, Buffer.concat([randomBytes(HEADER), ...tensors]));
  entries = tensors.map((bytes, index) => ({ tensor: `t${index}`, offset: HEADER + index * SIZE, size: SIZE, hash: new Fnv1a64().update(bytes).digestHex(), digest: digestOf(bytes), probe: '0000000000000000' }));
});
afterAll(() => worker?.stop());

/** The test worker as a member reached through `agent`'s connections (as the secure link's streams are). */
function through(agent: LinkAgent): CachePeer {
  return { ...peer, worker: new WorkerClient({ name: 'test worker', baseUrl: 'http://127.0.0.1/', agent }) };
}

describe('pushEntry', () => {
  it('sends the tensor\'s bytes from its offset and the worker keeps them', async () => {
    const result = await pushEntry({ peer, file, entry: entries[0]! });
    expect(result).toEqual({ sentBytes: SIZE, resumedBytes: 0 });
    expect(await cacheHas(peer, [entries[0]!.hash])).toEqual(new Set([entries[0]!.hash]));
  });

  it('resumes a cut push where the worker\'s upload stands, sending only the rest', async () => {
    const entry = entries[1]!;
    const cut = new AbortController();
    let sent = 0;
    await expect(pushEntry({ peer, file, entry, maxBytesPerSecond: 4 * 2 ** 20, signal: cut.signal, onBytes: (bytes) => (sent += bytes) >= SIZE / 2 && cut.abort() })).rejects.toThrow();
    expect(await cacheHas(peer, [entry.hash])).toEqual(new Set());
    // The worker settles the cut upload once it sees the connection end: wait until its offset holds still.
    let kept = -1;
    for (let next = await ingestOffset(peer, entry); next !== kept; next = await ingestOffset(peer, entry)) {
      kept = next;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // A worker without resumable uploads keeps nothing (offset 0): then the whole entry goes again.
    expect(kept).toBeLessThan(SIZE);
    const result = await pushEntry({ peer, file, entry });
    expect(result).toEqual({ sentBytes: SIZE - kept, resumedBytes: kept });
    expect(await cacheHas(peer, [entry.hash])).toEqual(new Set([entry.hash]));
  });

  it('sends every push of a peer with an upload agent over one kept-alive connection', async () => {
    const tensors = [randomBytes(SIZE), randomBytes(SIZE)];
    const own = path.join(scratchDir(), 'model-2.bin');
    await writeFile(own, Buffer.concat([randomBytes(HEADER), ...tensors]));
    const pushed = tensors.map((bytes, index) => ({ tensor: `u${index}`, offset: HEADER + index * SIZE, size: SIZE, hash: new Fnv1a64().update(bytes).digestHex(), digest: digestOf(bytes), probe: '0000000000000000' }));
    let opened = 0;
    const { port } = new URL(worker.control.url);
    const uploadAgent = new LinkAgent(async () => {
      opened++;
      const socket = net.connect(Number(port), '127.0.0.1');
      await once(socket, 'connect');
      return socket;
    });
    try {
      for (const entry of pushed) expect(await pushEntry({ peer: through(uploadAgent), file: own, entry })).toEqual({ sentBytes: SIZE, resumedBytes: 0 });
      expect(await cacheHas(peer, pushed.map((entry) => entry.hash))).toEqual(new Set(pushed.map((entry) => entry.hash)));
      expect(opened).toBe(1);
    } finally {
      uploadAgent.destroy();
    }
  });

  it('tries once more on a new connection when a kept-alive one turns out to be gone', async () => {
    const tensors = [randomBytes(SIZE), randomBytes(SIZE)];
    const own = path.join(scratchDir(), 'model-3.bin');
    await writeFile(own, Buffer.concat([randomBytes(HEADER), ...tensors]));
    const pushed = tensors.map((bytes, index) => ({ tensor: `v${index}`, offset: HEADER + index * SIZE, size: SIZE, hash: new Fnv1a64().update(bytes).digestHex(), digest: digestOf(bytes), probe: '0000000000000000' }));
    // In front of the worker: its first connection is reset as the second request on it begins,
    // as a worker closing an idle stream just when it is reused would.
    const { port } = new URL(worker.control.url);
    let connections = 0;
    const proxy = net.createServer((client) => {
      const first = ++connections === 1;
      const upstream = net.connect(Number(port), '127.0.0.1');
      let requests = 0;
      client.on('data', (chunk: Buffer) => {
        if (first && chunk.includes('PUT /') && ++requests === 2) return void client.resetAndDestroy();
        upstream.write(chunk);
      });
      upstream.pipe(client);
      client.on('error', () => upstream.destroy());
      client.on('close', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const uploadAgent = new LinkAgent(async () => {
      const socket = net.connect((proxy.address() as net.AddressInfo).port, '127.0.0.1');
      await once(socket, 'connect');
      return socket;
    });
    try {
      for (const entry of pushed) expect(await pushEntry({ peer: through(uploadAgent), file: own, entry })).toMatchObject({ resumedBytes: 0 });
      expect(await cacheHas(peer, pushed.map((entry) => entry.hash))).toEqual(new Set(pushed.map((entry) => entry.hash)));
      expect(connections).toBe(2);
    } finally {
      uploadAgent.destroy();
      proxy.close();
    }
  });

  it('says the model file cannot be read, not that the peer is gone, when the file is missing', async () => {
    const missing = path.join(scratchDir(), 'gone.gguf');
    await expect(pushEntry({ peer, file: missing, entry: entries[2]! })).rejects.toMatchObject({ code: 'warm-file-unreadable', message: expect.stringContaining(`Cannot read ${missing} (ENOENT)`) });
  });

  it('refuses bytes that are not the entry, naming the tensor and the file', async () => {
    const wrong = { ...entries[2]!, offset: HEADER }; // entry 0's bytes under entry 2's hash
    await expect(pushEntry({ peer, file, entry: wrong })).rejects.toMatchObject({ code: 'warm-mismatch', message: expect.stringContaining(`tensor t2: the bytes in ${file}`) });
    expect(await cacheHas(peer, [wrong.hash])).toEqual(new Set());
  });

  it('sends the manifest\'s digest with the bytes: bytes with the entry\'s name but another digest are refused', async () => {
    const wrong = { ...entries[2]!, digest: digestOf(Buffer.from('another tensor')) };
    await expect(pushEntry({ peer, file, entry: wrong })).rejects.toMatchObject({ code: 'warm-mismatch', message: expect.stringMatching(/tensor t2: .*digest/) });
    expect(await cacheHas(peer, [wrong.hash])).toEqual(new Set());
  });
});

describe('CoverageWatch', () => {
  it('follows a push at once and an eviction within a poll', async () => {
    const share = { peer, entries: [entries[2]!], bytes: SIZE };
    const watch = new CoverageWatch([share], { intervalMs: 200 });
    const seen: PeerCoverage[][] = [];
    const waitFor = (match: (coverage: PeerCoverage) => boolean) => new Promise<void>((resolve) => {
      const check = () => (seen.at(-1) && match(seen.at(-1)![0]!) ? resolve() : setTimeout(check, 20));
      check();
    });
    const stop = watch.subscribe((coverage) => seen.push(coverage));
    try {
      await waitFor((coverage) => coverage.cachedEntries === 0);
      expect(seen.at(-1)![0]).toMatchObject({ peer: 'test worker', shareEntries: 1, shareBytes: SIZE, cachedBytes: 0, error: null });
      await pushEntry({ peer, file, entry: entries[2]! });
      watch.notePresent(peer.id, [entries[2]!.hash]);
      expect(seen.at(-1)![0]).toMatchObject({ cachedEntries: 1, cachedBytes: SIZE });
      expect((await control(worker.control.url, 'DELETE', `v1/cache/entries/${entries[2]!.hash}`)).status).toBe(204);
      await waitFor((coverage) => coverage.cachedEntries === 0);
    } finally {
      stop();
    }
  });
});
