// The real thing: llama-server on the "coordinator" side loads a model onto a real Hearth worker
// (ggml-rpc-server on loopback) through a local endpoint and the secure link.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerCacheEvent } from '../../../src-main/core/cache/cache-events.js';
import { HearthError } from '../../../src-main/core/base/errors.js';
import { ensureTools, type LlamaTools } from '../../../src-main/core/native/tools.js';
import { openLinkStream, startLocalEndpoint, type LocalEndpoint } from '../../../src-main/core/peers/link/link-client.js';
import { linkPsk } from '../../../src-main/core/peers/link/link-keys.js';
import { startLinkServer, type HandshakeFailure, type LinkServer } from '../../../src-main/core/peers/link/link-server.js';
import type { RunningWorker } from '../../../src-main/core/worker/run-worker.js';
import { eventually } from '../../helpers/expected-cache.js';
import { localCompletion, startLlamaServer, type Completion } from '../../helpers/llama-server.js';
import { syntheticModel } from '../../helpers/models.js';
import { startTestWorker } from '../../helpers/worker.js';

const PROMPT = 'Through the secure link the hearth';
const TOKENS = 8;
const CLUSTER_KEY = randomBytes(32);
const COORDINATOR = 'member:coordinator';

let tools: LlamaTools;
let model: string;
let local: Completion;

beforeAll(async () => {
  tools = await ensureTools();
  model = await syntheticModel('tiny');
  local = await localCompletion(tools, model, PROMPT, TOKENS);
});

/** A fresh worker with a secure link in front of it, as a peer machine runs them. */
async function startPeer(): Promise<{ worker: RunningWorker; link: LinkServer; failures: HandshakeFailure[]; stop(): Promise<void> }> {
  const worker = await startTestWorker();
  const [rpcHost, rpcPort] = worker.service.status.endpoint.split(':');
  const link = await startLinkServer({
    host: '127.0.0.1',
    port: 0,
    pskFor: (identity) => (identity.startsWith('member:') ? linkPsk(CLUSTER_KEY) : null),
    services: { rpc: { host: rpcHost!, port: Number(rpcPort) }, control: { host: '127.0.0.1', port: worker.control.port } },
  });
  const failures: HandshakeFailure[] = [];
  link.on('handshake-failed', (failure) => failures.push(failure));
  return { worker, link, failures, stop: async () => {
    await link.close();
    await worker.stop();
  } };
}

function endpointTo(link: LinkServer, service: 'rpc' | 'control', psk = linkPsk(CLUSTER_KEY), onError?: (error: HearthError) => void): Promise<LocalEndpoint> {
  return startLocalEndpoint({ open: (stream) => openLinkStream({ host: '127.0.0.1', port: link.port, identity: COORDINATOR, psk, service: stream }), service, name: 'the peer', onError });
}

describe('llama-server through the secure link', () => {
  let peer: Awaited<ReturnType<typeof startPeer>>;
  beforeAll(async () => {
    peer = await startPeer();
  });
  afterAll(() => peer?.stop());

  it('loads a model onto the worker and generates exactly what a local load generates', async () => {
    const endpoint = await endpointTo(peer.link, 'rpc');
    try {
      const server = await startLlamaServer({ llamaServer: tools.llamaServer, cwd: tools.cwd, env: tools.env, model, args: ['--rpc', endpoint.endpoint, '-ngl', '99'] });
      let completion: Completion;
      try {
        completion = await server.complete(PROMPT, TOKENS);
      } finally {
        await server.stop();
      }
      expect(completion).toEqual(local);
      // The load went through the worker: it counted one load, and the weights crossed the link.
      await eventually(() => (peer.worker.service.cache.summary().loads === 1 ? true : undefined), 10_000, 'the worker to count the load');
      const stats = endpoint.stats();
      // One connection for the whole load (patch 0007: upstream's client opened six).
      expect(stats.connections).toBe(1);
      expect(stats.failures).toBe(0);
      expect(stats.bytesUp).toBeGreaterThan(1_000_000);
      // Plus the heartbeat's stream, open while the connection was.
      expect(peer.link.stats()).toMatchObject({ handshakeFailures: 0, rejected: 0, accepted: stats.connections + 1 });
    } finally {
      await endpoint.close();
    }
  });

  it("reaches the worker's control API", async () => {
    const endpoint = await endpointTo(peer.link, 'control');
    try {
      const response = await fetch(`http://${endpoint.endpoint}/v1/status`);
      expect(response.status).toBe(200);
      const status = (await response.json()) as { worker: { state: string; endpoint: string } };
      expect(status.worker).toMatchObject({ state: 'serving', endpoint: peer.worker.service.status.endpoint });
    } finally {
      await endpoint.close();
    }
  });
});

describe('llama-server with a wrong cluster key', () => {
  let peer: Awaited<ReturnType<typeof startPeer>>;
  beforeAll(async () => {
    peer = await startPeer();
  });
  afterAll(() => peer?.stop());

  it('fails to load, promptly, and the worker never sees a client', async () => {
    const events: ServerCacheEvent[] = [];
    peer.worker.service.on('cache', (event: ServerCacheEvent) => events.push(event));
    const errors: HearthError[] = [];
    const endpoint = await endpointTo(peer.link, 'rpc', linkPsk(randomBytes(32)), (error) => errors.push(error));
    try {
      const started = Date.now();
      await expect(startLlamaServer({ llamaServer: tools.llamaServer, cwd: tools.cwd, env: tools.env, model, args: ['--rpc', endpoint.endpoint, '-ngl', '99'], readyTimeoutMs: 30_000 }))
        .rejects.toThrow(/exited/);
      expect(Date.now() - started).toBeLessThan(30_000);
      expect(errors.length).toBeGreaterThan(0);
      expect(errors.every((error) => error.code === 'link-wrong-key')).toBe(true);
      expect(peer.failures.length).toBeGreaterThan(0);
      expect(peer.failures.every((failure) => failure.kind === 'wrong-key' && failure.identity === COORDINATOR)).toBe(true);
      expect(peer.worker.service.cache.summary().loads).toBe(0);
      expect(events.filter((event) => event.kind === 'client-open')).toEqual([]);
      expect(peer.link.stats()).toMatchObject({ accepted: 0, active: 0 });
    } finally {
      await endpoint.close();
    }
  });
});
