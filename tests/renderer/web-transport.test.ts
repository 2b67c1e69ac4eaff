// The page side of the web transport against the real web server: requests, events, the
// token, and coming back by itself after the server restarts.
import { EventEmitter } from 'node:events';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { MachineStatus } from '../../src-main/core/api/contract.js';
import type { HearthHost } from '../../src-main/core/api/host.js';
import { startWebServer, type WebServer } from '../../src-main/core/api/web-server.js';
import { transportHost } from '../../src-main/core/api/transport-guard.js';
import { createWebTransport } from '../../src-renderer/src/lib/transport/web.js';
import { partialRequests } from '../helpers/partial-requests.js';

const status = (hostname: string): MachineStatus => ({
  hostname,
  platform: 'linux',
  arch: 'x64',
  hearthVersion: '0.1.0',
  llamaRelease: 'b0000',
  rpcProtocol: null,
  worker: { state: 'starting', endpoint: null, devices: [], build: null, error: null, activity: 'idle', cache: null },
  llamaServer: { state: 'ready', build: null, error: null },
  keepWarm: { state: 'off', model: null, peers: [], maxBytesPerSecond: 1, error: null },
});

const events = new EventEmitter();
let current = status('first');
const host: HearthHost = {
  requests: partialRequests({ getStatus: async () => current }),
  on(event, listener) {
    events.on(event, listener);
    return () => events.off(event, listener);
  },
};

// Each call resolves with the next payload the listener receives.
function collector(): { listener: (s: MachineStatus) => void; next(): Promise<MachineStatus> } {
  const queue: MachineStatus[] = [];
  const waiting: ((s: MachineStatus) => void)[] = [];
  return {
    listener: (s) => {
      const waiter = waiting.shift();
      if (waiter) waiter(s);
      else queue.push(s);
    },
    next: () => new Promise((resolve) => {
      const queued = queue.shift();
      if (queued) resolve(queued);
      else waiting.push(resolve);
    }),
  };
}

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'hearth-transport-'));
});
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

describe('web transport', () => {
  it('makes requests and receives events with the token from the page URL, and reconnects', async () => {
    let server: WebServer = await startWebServer({ port: 0, staticDir: dir, hearth: transportHost(host), token: 'tok' });
    const port = Number(new URL(server.url).port);
    try {
      const api = createWebTransport({ pageUrl: `${server.url}?token=tok`, WebSocket: WebSocket as unknown as typeof globalThis.WebSocket });
      expect((await api.getStatus()).hostname).toBe('first');

      const seen = collector();
      api.on('status', seen.listener);
      expect((await seen.next()).hostname).toBe('first');
      current = status('second');
      events.emit('status', current);
      expect((await seen.next()).hostname).toBe('second');

      // The server goes away and comes back on the same port: the socket returns by itself.
      await server.close();
      current = status('third');
      server = await startWebServer({ port, staticDir: dir, hearth: transportHost(host), token: 'tok' });
      expect((await seen.next()).hostname).toBe('third');
    } finally {
      await server.close();
    }
  });

  it('turns refusals into errors that say what happened', async () => {
    const server = await startWebServer({ port: 0, staticDir: dir, hearth: transportHost(host), token: 'tok' });
    try {
      const api = createWebTransport({ pageUrl: `${server.url}?token=wrong` });
      await expect(api.getStatus()).rejects.toThrow(/getStatus failed \(401\): Missing or wrong token/);
    } finally {
      await server.close();
    }
  });
});
