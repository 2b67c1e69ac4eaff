// Moving shares between two real workers of one cluster: one pulls entries from the other's cache
// through the secure link (loopback, discovery off, the peer added by address) and admits them
// verified against the coordinator's digests; a member serving forged bytes, peers that are
// unknown or of another cluster, and a worker without the cluster, are refused.
import { randomBytes, randomUUID } from 'node:crypto';
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Crc32c, Fnv1a64 } from '../../../src-main/core/cache/checksums.js';
import { digestOf } from '../../../src-main/core/cache/entry-digest.js';
import { checkPath, entryPath, formatCheck, verifyEntry } from '../../../src-main/core/cache/entry-files.js';
import { ensureTools } from '../../../src-main/core/native/tools.js';
import { saveIdentity } from '../../../src-main/core/peers/cluster/cluster-identity.js';
import { ClusterNode } from '../../../src-main/core/peers/cluster-node.js';
import type { RunningWorker } from '../../../src-main/core/worker/run-worker.js';
import { forgeFnv1a } from '../../helpers/fnv-forgery.js';
import { scratchDir } from '../../helpers/models.js';
import { control, startTestWorker } from '../../helpers/worker.js';

const clusterKey = randomBytes(32);
const MiB = 1024 * 1024;

type Worker = RunningWorker & { cacheRoot: string };
let source: Worker;
let target: Worker;
const nodes: ClusterNode[] = [];

/** A cluster node in front of `worker`, holding `key` (this test's cluster unless told otherwise). */
async function startNode(worker: RunningWorker, name: string, key = clusterKey): Promise<ClusterNode> {
  const dataDir = scratchDir(`hearth-${name}-data-`);
  await saveIdentity(dataDir, { deviceId: randomUUID(), deviceName: name, clusterKey: key });
  const node = await ClusterNode.start({ dataDir, worker, release: (await ensureTools()).release, linkHost: '127.0.0.1', linkPort: 0, discovery: false });
  nodes.push(node);
  return node;
}

function entry(size: number): { hash: string; bytes: Buffer } {
  const bytes = randomBytes(size);
  return { hash: new Fnv1a64().update(bytes).digestHex(), bytes };
}

/** What a coordinator asks for: name, size and digest from its own manifest. */
function wanted({ hash, bytes }: { hash: string; bytes: Buffer }): { hash: string; size: number; digest: string } {
  return { hash, size: bytes.length, digest: digestOf(bytes) };
}

async function putPlain(worker: RunningWorker, hash: string, bytes: Buffer): Promise<void> {
  const reply = await fetch(new URL(`v1/cache/entries/${hash}`, worker.control.url), { method: 'PUT', body: bytes, headers: { 'x-hearth-entry-digest': digestOf(bytes) } });
  expect(reply.status).toBe(201);
}

let sourceNode: ClusterNode;
let targetNode: ClusterNode;

beforeAll(async () => {
  [source, target] = await Promise.all([startTestWorker(), startTestWorker()]);
  sourceNode = await startNode(source, 'source');
});
afterAll(async () => {
  for (const node of nodes) await node.stop();
  await Promise.all([source?.stop(), target?.stop()]);
});

describe('fetching entries from another member', () => {
  it('is refused while this worker runs without the cluster', async () => {
    const reply = await control(target.control.url, 'POST', 'v1/cache/fetch', { peer: sourceNode.identity.deviceId, entries: [] });
    expect(reply.status).toBe(409);
    expect((reply.json as { error: string }).error).toMatch(/without the cluster/);
    // Now give the target its cluster node, and let it know the source by address.
    targetNode = await startNode(target, 'target');
    target.attachCluster(targetNode);
    expect(await targetNode.addPeer('127.0.0.1', sourceNode.linkPort)).toMatchObject({ member: true });
  });

  it('copies the entries through the secure link and they verify', async () => {
    const entries = [entry(3 * MiB), entry(12 * MiB), entry(100_000)];
    for (const { hash, bytes } of entries) await putPlain(source, hash, bytes);
    const missing = entry(1000);
    const absent = missing.hash;
    const asked = [...entries, missing].map(wanted);
    const reply = await control(target.control.url, 'POST', 'v1/cache/fetch', { peer: sourceNode.identity.deviceId, entries: asked });
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject({ fetched: entries.map((e) => e.hash), bytes: entries.reduce((sum, e) => sum + e.bytes.length, 0), present: [], missing: [absent] });
    for (const { hash, bytes } of entries) {
      expect(await verifyEntry(path.join(target.cacheRoot, 'rpc'), hash)).toEqual({ ok: true, size: bytes.length });
      const served = await fetch(new URL(`v1/cache/entries/${hash}`, target.control.url));
      expect(Buffer.from(await served.arrayBuffer()).equals(bytes)).toBe(true);
    }
    // Asked again, nothing moves.
    const again = await control(target.control.url, 'POST', 'v1/cache/fetch', { peer: sourceNode.identity.deviceId, entries: asked });
    expect(again.json).toMatchObject({ fetched: [], bytes: 0, present: entries.map((e) => e.hash), missing: [absent] });
  });

  it('refuses bytes a member serves under an entry\'s name that are not the tensor the coordinator\'s manifest names (a forged FNV-1a)', async () => {
    const real = entry(2 * MiB);
    const forged = forgeFnv1a(real.hash, Buffer.alloc(real.bytes.length, 0x42));
    // A lying member holds the forged bytes under the real entry's name, with a sidecar that vouches for them.
    const sourceDir = path.join(source.cacheRoot, 'rpc');
    await writeFile(entryPath(sourceDir, real.hash), forged);
    await writeFile(checkPath(sourceDir, real.hash), formatCheck({ crc32c: new Crc32c().update(forged).digest(), size: forged.length }));
    const before = await readdir(path.join(target.cacheRoot, 'rpc'));
    const reply = await control(target.control.url, 'POST', 'v1/cache/fetch', { peer: sourceNode.identity.deviceId, entries: [wanted(real)] });
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject({ fetched: [], bytes: 0, missing: [real.hash], warnings: [expect.stringMatching(new RegExp(`Peer ${sourceNode.identity.deviceId} sent bytes that are not entry ${real.hash} .*digest.*not admitted`))] });
    expect(await readdir(path.join(target.cacheRoot, 'rpc'))).toEqual(before);
    // An entry whose size differs from the manifest's is not even read.
    const short = entry(1000);
    await putPlain(source, short.hash, short.bytes);
    const sized = await control(target.control.url, 'POST', 'v1/cache/fetch', { peer: sourceNode.identity.deviceId, entries: [{ ...wanted(short), size: 999 }] });
    expect(sized.json).toMatchObject({ fetched: [], missing: [short.hash], warnings: [expect.stringContaining('not the 999 of the coordinator\'s manifest')] });
  });

  it('refuses peers that are unknown, this machine, or of another cluster, and malformed requests', async () => {
    const base = target.control.url;
    const entries = [wanted(entry(10))];
    const unknown = await control(base, 'POST', 'v1/cache/fetch', { peer: randomUUID(), entries });
    expect(unknown.status).toBe(409);
    expect((unknown.json as { error: string }).error).toMatch(/No peer .* is known/);
    const self = await control(base, 'POST', 'v1/cache/fetch', { peer: targetNode.identity.deviceId, entries });
    expect(self.status).toBe(400);
    expect((self.json as { error: string }).error).toMatch(/is this machine/);

    // A machine of another cluster, in front of the source's worker: known, but not a member.
    const stranger = await startNode(source, 'stranger', randomBytes(32));
    expect(await targetNode.addPeer('127.0.0.1', stranger.linkPort)).toMatchObject({ member: false });
    const foreign = await control(base, 'POST', 'v1/cache/fetch', { peer: stranger.identity.deviceId, entries });
    expect(foreign.status).toBe(403);
    expect((foreign.json as { error: string }).error).toMatch(/not in this cluster/);

    const { hash, size } = entries[0]!;
    const malformed = [
      { entries }, { peer: '', entries }, { peer: sourceNode.identity.deviceId }, { peer: sourceNode.identity.deviceId, entries: ['nope'] },
      // An older coordinator's request, by hash alone: no digest to check the bytes against.
      { peer: sourceNode.identity.deviceId, hashes: [hash] }, { peer: sourceNode.identity.deviceId, entries: [{ hash, size }] },
    ];
    for (const body of malformed) {
      const reply = await control(base, 'POST', 'v1/cache/fetch', body);
      expect(reply.status, JSON.stringify(body)).toBe(400);
    }
  });
});
