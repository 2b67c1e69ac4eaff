// The one worker client against peers that answer wrong: another Hearth version, a lying peer,
// one that refuses, one that is gone. Every case is an error naming the peer, never a crash later.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isHearthError } from '../../../src-main/core/base/errors.js';
import { WorkerClient, WorkerRefusal } from '../../../src-main/core/worker-api/worker-client.js';
import { cacheHas } from '../../../src-main/core/warmup/cache-client.js';
import { measureCoverage } from '../../../src-main/core/warmup/coverage.js';
import type { RunningWorker } from '../../../src-main/core/worker/run-worker.js';
import { startTestWorker } from '../../helpers/worker.js';

const HASH = '0123456789abcdef';

/** A "peer" whose control API answers every request with `reply`. */
async function peerAnswering(reply: (req: http.IncomingMessage) => { status: number; body: unknown }): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const { status, body } = reply(req);
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

let worker: RunningWorker;
beforeAll(async () => {
  worker = await startTestWorker();
});
afterAll(() => worker?.stop());

describe('WorkerClient', () => {
  it('speaks the contract with a real worker: typed answers for every kind of route', async () => {
    const client = new WorkerClient({ name: 'worker-a', baseUrl: worker.control.url });
    const status = await client.call('status', {});
    expect(status.worker.state).toBe('serving');
    expect(await client.call('cacheHas', { hashes: [HASH] })).toEqual({ present: [], missing: [HASH] });
    const pin = await client.call('pin', { hashes: [HASH], ttlSeconds: 5 });
    expect(await client.call('unpin', { id: pin.id })).toEqual({});
    const refused = await client.call('unpin', { id: pin.id }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(WorkerRefusal);
    expect(refused).toMatchObject({ status: 404, message: expect.stringMatching(/^worker-a refused DELETE \/v1\/cache\/pins\/:id \(HTTP 404\): No pin/) });
  });

  it('calls a peer that answers with another shape incompatible, naming it, and the coverage shows it', async () => {
    const liar = await peerAnswering(() => ({ status: 200, body: { present: 'all of them', missing: [] } }));
    try {
      const peer = { id: 'p1', name: 'old-box', worker: new WorkerClient({ name: 'old-box', baseUrl: liar.url }) };
      const error = await cacheHas(peer, [HASH]).catch((caught: unknown) => caught);
      expect(isHearthError(error) && error.code).toBe('incompatible-peer');
      expect((error as Error).message).toMatch(/^old-box answered POST \/v1\/cache\/has with something this Hearth does not understand \("present" must be an array of entry hashes.*\): it runs an incompatible Hearth version/);
      // The warm-up's coverage keeps going and says why this peer has no figures.
      const [coverage] = await measureCoverage([{ peer, entries: [{ tensor: 't', offset: 0, size: 1, hash: HASH, digest: `sha256:${'0'.repeat(64)}`, probe: HASH }], bytes: 1 }]);
      expect(coverage!.error).toMatch(/incompatible Hearth version/);
    } finally {
      await liar.close();
    }
  });

  it('refuses answers that are not JSON, or JSON of the wrong kind deep inside', async () => {
    const cases: unknown[] = [null, 'ok', [], { release: 'v0.4.0', worker: { state: 'dancing' } }];
    for (const body of cases) {
      const liar = await peerAnswering(() => ({ status: 200, body }));
      try {
        const error = await new WorkerClient({ name: 'odd-box', baseUrl: liar.url }).call('status', {}).catch((caught: unknown) => caught);
        expect(isHearthError(error) && error.code, JSON.stringify(body)).toBe('incompatible-peer');
      } finally {
        await liar.close();
      }
    }
  });

  it('says which peer did not answer, and what it said when it refused', async () => {
    const gone = await peerAnswering(() => ({ status: 200, body: {} }));
    await gone.close();
    const unreachable = await new WorkerClient({ name: 'gone-box', baseUrl: gone.url, unreachableHint: 'is its worker running?' }).call('cache', {}).catch((caught: unknown) => caught);
    expect(unreachable).toMatchObject({ code: 'peer-unreachable', message: expect.stringMatching(/^gone-box did not answer GET \/v1\/cache \(.*\): is its worker running\?$/) });
    const grumpy = await peerAnswering(() => ({ status: 507, body: { error: 'no room', code: 'cache-full' } }));
    try {
      const refused = await new WorkerClient({ name: 'full-box', baseUrl: grumpy.url }).call('fill', { entries: [{ hash: HASH, size: 1, digest: `sha256:${'0'.repeat(64)}` }] }).catch((caught: unknown) => caught);
      expect(refused).toMatchObject({ status: 507, reply: { error: 'no room', code: 'cache-full' }, message: 'full-box refused POST /v1/cache/fill (HTTP 507): no room' });
    } finally {
      await grumpy.close();
    }
  });
});
