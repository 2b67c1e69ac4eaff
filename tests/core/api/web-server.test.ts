import { EventEmitter } from 'node:events';
import fs from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { HearthEvents, MachineStatus } from '../../../src-main/core/api/contract.js';
import { isAllowedHost } from '../../../src-main/core/net/host-check.js';
import { makeSelfSignedCertificate, type SelfSignedCertificate } from '../../../src-main/core/net/self-signed-cert.js';
import type { HearthHost } from '../../../src-main/core/api/host.js';
import { startWebServer, type WebServer } from '../../../src-main/core/api/web-server.js';
import { transportHost } from '../../../src-main/core/api/transport-guard.js';
import { partialRequests } from '../../helpers/partial-requests.js';

const status: MachineStatus = {
  hostname: 'test-box',
  platform: 'linux',
  arch: 'x64',
  hearthVersion: '0.1.0',
  llamaRelease: 'b0000',
  rpcProtocol: '3.0.0',
  worker: { state: 'serving', endpoint: '127.0.0.1:50052', devices: [], build: null, error: null, activity: 'idle', cache: null },
  llamaServer: { state: 'ready', build: null, error: null },
  keepWarm: { state: 'off', model: null, peers: [], maxBytesPerSecond: 1, error: null },
};

// The transport is the boundary under test, so the core behind it is a small stand-in.
function fakeHost(): HearthHost & { emit<E extends keyof HearthEvents>(event: E, payload: HearthEvents[E]): void } {
  const events = new EventEmitter();
  return {
    requests: partialRequests({ getStatus: async () => status }),
    on(event, listener) {
      events.on(event, listener);
      return () => events.off(event, listener);
    },
    emit: (event, payload) => events.emit(event, payload),
  };
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

// node:http rather than fetch: fetch normalises `..` away and refuses to set Host.
function send(url: string, options: { method?: string; path: string; headers?: Record<string, string>; body?: string }): Promise<Reply> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: options.method ?? 'GET', path: options.path, headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

// Messages are queued from the start: the status snapshot can arrive with the handshake itself.
interface Socket {
  ws: WebSocket;
  next(): Promise<{ event: string; payload: unknown }>;
}

function openSocket(url: string, options: WebSocket.ClientOptions = {}): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options);
    const queue: unknown[] = [];
    const waiting: ((m: unknown) => void)[] = [];
    ws.on('message', (data: Buffer) => {
      const message: unknown = JSON.parse(data.toString('utf8'));
      const waiter = waiting.shift();
      if (waiter) waiter(message);
      else queue.push(message);
    });
    const next = (): Promise<{ event: string; payload: unknown }> =>
      new Promise((r) => (queue.length > 0 ? r(queue.shift() as never) : waiting.push(r as (m: unknown) => void)));
    ws.once('open', () => resolve({ ws, next }));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
}

let dir: string;
let staticDir: string;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'hearth-web-'));
  staticDir = path.join(dir, 'ui');
  await fs.mkdir(path.join(staticDir, 'assets'), { recursive: true });
  await fs.writeFile(path.join(staticDir, 'index.html'), '<!doctype html><title>Hearth</title>');
  await fs.writeFile(path.join(staticDir, 'assets', 'app-1234.js'), 'export {};');
  await fs.writeFile(path.join(dir, 'secret.txt'), 'outside the UI folder');
  await fs.symlink(path.join(dir, 'secret.txt'), path.join(staticDir, 'link.txt'));
});

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('web server without a token', () => {
  let server: WebServer;
  const host = fakeHost();
  beforeAll(async () => {
    server = await startWebServer({ host: '127.0.0.1', port: 0, staticDir, hearth: transportHost(host) });
  });
  afterAll(() => server.close());

  it('reports a loopback URL with the port it got', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
  });

  it('serves index.html for / with security headers and no caching', async () => {
    const reply = await send(server.url, { path: '/' });
    expect(reply.status).toBe(200);
    expect(reply.body).toContain('<title>Hearth</title>');
    expect(reply.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(reply.headers['cache-control']).toBe('no-store');
    expect(reply.headers['x-content-type-options']).toBe('nosniff');
    expect(reply.headers['content-security-policy']).toContain("script-src 'self'");
  });

  it('serves assets with their content type', async () => {
    const reply = await send(server.url, { path: '/assets/app-1234.js' });
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(reply.headers['cache-control']).toContain('immutable');
  });

  it('answers a request as JSON', async () => {
    const reply = await send(server.url, { method: 'POST', path: '/api/getStatus' });
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body)).toEqual(status);
  });

  it('refuses unknown requests, wrong methods, bad JSON, arguments where none belong and huge bodies', async () => {
    const post = (p: string, body?: string, type = 'application/json'): Promise<Reply> =>
      send(server.url, { method: 'POST', path: p, body, headers: { 'Content-Type': type } });
    const unknown = await post('/api/launchMissiles');
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body)).toEqual({ error: 'No such request: launchMissiles' });
    expect((await post('/api/toString')).status).toBe(404);
    expect((await send(server.url, { path: '/api/getStatus' })).status).toBe(405);
    expect((await post('/api/getStatus', '{not json')).status).toBe(400);
    expect((await post('/api/getStatus', '{"x":1}')).status).toBe(400);
    expect((await post('/api/getStatus', '"x"', 'text/plain')).status).toBe(415);
    const huge = await post('/api/getStatus', JSON.stringify('x'.repeat(9 * 1024 * 1024)));
    expect(huge.status).toBe(413);
  });

  it('never serves files outside the UI folder', async () => {
    for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt', '/assets/..%2f..%2fsecret.txt', '/..%5csecret.txt', '/link.txt', '/%00', '/%zz']) {
      const reply = await send(server.url, { path: p });
      expect([400, 404], p).toContain(reply.status);
      expect(reply.body, p).not.toContain('outside the UI folder');
    }
  });

  it('refuses a Host header that is not this server (DNS rebinding)', async () => {
    const { port } = new URL(server.url);
    for (const hostHeader of [`evil.example:${port}`, `127.0.0.1.evil.com:${port}`, 'localhost:1', `evil.com@127.0.0.1:${port}`]) {
      const reply = await send(server.url, { method: 'POST', path: '/api/getStatus', headers: { Host: hostHeader } });
      expect(reply.status, hostHeader).toBe(403);
    }
    const ok = await send(server.url, { method: 'POST', path: '/api/getStatus', headers: { Host: `localhost:${port}` } });
    expect(ok.status).toBe(200);
    await expect(openSocket(`${server.url.replace('http', 'ws')}api/events`, { headers: { Host: `evil.example:${port}` } })).rejects.toThrow('403');
  });

  it('refuses cross-origin calls from a browser', async () => {
    const reply = await send(server.url, { method: 'POST', path: '/api/getStatus', headers: { Origin: 'http://evil.example' } });
    expect(reply.status).toBe(403);
    await expect(openSocket(`${server.url.replace('http', 'ws')}api/events`, { origin: 'http://evil.example' })).rejects.toThrow('403');
  });

  it('sends the current status on connect, then every event', async () => {
    const socket = await openSocket(`${server.url.replace('http', 'ws')}api/events`, { origin: server.url.slice(0, -1) });
    expect(await socket.next()).toEqual({ event: 'status', payload: status });
    const changed = { ...status, worker: { ...status.worker, state: 'error' as const, error: 'boom' } };
    host.emit('status', changed);
    expect(await socket.next()).toEqual({ event: 'status', payload: changed });
    socket.ws.close();
  });
});

describe('web server with a token', () => {
  let server: WebServer;
  beforeAll(async () => {
    server = await startWebServer({ host: '127.0.0.1', port: 0, staticDir, hearth: transportHost(fakeHost()), token: 's3cret' });
  });
  afterAll(() => server.close());

  it('demands the token on API and WebSocket calls, but serves the page', async () => {
    expect((await send(server.url, { path: '/' })).status).toBe(200);
    const post = (headers: Record<string, string>): Promise<Reply> => send(server.url, { method: 'POST', path: '/api/getStatus', headers });
    expect((await post({})).status).toBe(401);
    expect((await post({ Authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await post({ Authorization: 'Bearer s3cret' })).status).toBe(200);
    // Unknown names are hidden behind the token too.
    expect((await send(server.url, { method: 'POST', path: '/api/nope' })).status).toBe(401);
    const ws = server.url.replace('http', 'ws') + 'api/events';
    await expect(openSocket(ws)).rejects.toThrow('401');
    await expect(openSocket(`${ws}?token=wrong`)).rejects.toThrow('401');
    const socket = await openSocket(`${ws}?token=s3cret`);
    expect((await socket.next()).event).toBe('status');
    socket.ws.close();
  });
});

describe('web server setup', () => {
  it('says to build the UI when index.html is missing', async () => {
    const server = await startWebServer({ port: 0, staticDir: path.join(dir, 'nothing-here'), hearth: transportHost(fakeHost()) });
    try {
      const reply = await send(server.url, { path: '/' });
      expect(reply.status).toBe(503);
      expect(reply.body).toContain('npm run build');
    } finally {
      await server.close();
    }
  });

  it('refuses to listen beyond loopback without a token', async () => {
    await expect(startWebServer({ host: '0.0.0.0', port: 0, staticDir, hearth: transportHost(fakeHost()) })).rejects.toThrow(/token/);
  });

  it('refuses to listen beyond loopback over plain HTTP, where the token, API key and pairing codes would cross the LAN in clear', async () => {
    const plain = startWebServer({ host: '0.0.0.0', port: 0, staticDir, hearth: transportHost(fakeHost()), token: 'tok' });
    await expect(plain).rejects.toMatchObject({ code: 'web-tls-required', message: expect.stringMatching(/over plain HTTP would show its token, the API key and pairing codes/) });
    await plain.then((server) => server.close(), () => undefined);
  });

  it('says when the port is taken', async () => {
    const first = await startWebServer({ port: 0, staticDir, hearth: transportHost(fakeHost()) });
    try {
      const port = Number(new URL(first.url).port);
      await expect(startWebServer({ port, staticDir, hearth: transportHost(fakeHost()) })).rejects.toThrow(/already in use/);
    } finally {
      await first.close();
    }
  });
});

describe('isAllowedHost', () => {
  const where = { port: 8080, listenHost: '0.0.0.0', localAddress: '::ffff:192.168.1.5' };
  it('accepts localhost and the address the request arrived on', () => {
    expect(isAllowedHost('localhost:8080', where)).toBe(true);
    expect(isAllowedHost('192.168.1.5:8080', where)).toBe(true);
    expect(isAllowedHost('[::1]:8080', { ...where, localAddress: '::1' })).toBe(true);
  });
  it('refuses other names, other ports, and junk', () => {
    expect(isAllowedHost(undefined, where)).toBe(false);
    expect(isAllowedHost('0.0.0.0:8080', where)).toBe(false);
    expect(isAllowedHost('attacker.example:8080', where)).toBe(false);
    expect(isAllowedHost('192.168.1.5.evil.com:8080', where)).toBe(false);
    expect(isAllowedHost('192.168.1.5:9090', where)).toBe(false);
    expect(isAllowedHost('localhost', where)).toBe(false);
    expect(isAllowedHost('user@localhost:8080', where)).toBe(false);
  });
});

describe('web server over HTTPS', () => {
  let server: WebServer;
  let certificate: SelfSignedCertificate;
  const host = fakeHost();
  const pairing = { code: '7K2M-Q9XD-4TRA', expiresAt: Date.now() + 600_000 };
  host.requests.showPairingCode = async () => pairing;
  beforeAll(async () => {
    certificate = await makeSelfSignedCertificate({ commonName: 'Hearth on test-box', altNames: ['localhost', '127.0.0.1'] });
    server = await startWebServer({ host: '0.0.0.0', port: 0, staticDir, hearth: transportHost(host), token: 'tok', tls: certificate });
  });
  afterAll(() => server.close());

  /** A request over TLS that trusts exactly this server's certificate. */
  function sendTls(options: { method?: string; path: string; headers?: Record<string, string> }): Promise<Reply & { fingerprint: string }> {
    const { port } = new URL(server.url);
    return new Promise((resolve, reject) => {
      const req = https.request({ host: '127.0.0.1', port, method: options.method ?? 'GET', path: options.path, headers: options.headers, ca: certificate.certPem }, (res) => {
        const chunks: Buffer[] = [];
        const fingerprint = (res.socket as import('node:tls').TLSSocket).getPeerCertificate().fingerprint256;
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), fingerprint }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('serves the page and the API over TLS with its certificate, and the pairing code with them', async () => {
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await sendTls({ path: '/' });
    expect(page.status).toBe(200);
    expect(page.fingerprint).toBe(certificate.fingerprint256);
    expect(page.headers['content-security-policy']).toMatch(/connect-src 'self' wss:\/\/127\.0\.0\.1:\d+;/);
    const code = await sendTls({ method: 'POST', path: '/api/showPairingCode', headers: { Authorization: 'Bearer tok' } });
    expect({ status: code.status, body: JSON.parse(code.body) as unknown }).toEqual({ status: 200, body: pairing });
    // A browser's own origin is https now; the http one is another origin.
    const origin = new URL(server.url).origin;
    expect((await sendTls({ method: 'POST', path: '/api/getStatus', headers: { Authorization: 'Bearer tok', Origin: origin } })).status).toBe(200);
    expect((await sendTls({ method: 'POST', path: '/api/getStatus', headers: { Authorization: 'Bearer tok', Origin: origin.replace('https:', 'http:') } })).status).toBe(403);
  });

  it('carries the events over wss', async () => {
    const socket = await openSocket(`${server.url.replace('https', 'wss')}api/events?token=tok`, { ca: certificate.certPem });
    expect((await socket.next()).event).toBe('status');
    socket.ws.close();
  });

  it('gives a plain-HTTP client nothing', async () => {
    await expect(send(server.url.replace('https', 'http'), { method: 'POST', path: '/api/showPairingCode', headers: { Authorization: 'Bearer tok' } })).rejects.toThrow();
  });
});
