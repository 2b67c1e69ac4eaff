// The secure link over real sockets on loopback: services piped end to end, keys, hostile input.
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HearthError } from '../../../src-main/core/base/errors.js';
import { LinkAgent } from '../../../src-main/core/peers/link/link-agent.js';
import { openLinkStream, startLocalEndpoint, type LinkStreamOptions } from '../../../src-main/core/peers/link/link-client.js';
import { linkPsk, pairingPsk } from '../../../src-main/core/peers/link/link-keys.js';
import { LINK_TLS } from '../../../src-main/core/peers/link/link-protocol.js';
import { startLinkServer, type HandshakeFailure, type LinkServer, type LinkServerOptions } from '../../../src-main/core/peers/link/link-server.js';

const CLUSTER_KEY = randomBytes(32);
const PSK = linkPsk(CLUSTER_KEY);
const MEMBER = 'member:test-device';

/** A TCP echo server standing in for the worker's RPC server. */
async function startEcho(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => socket.destroy());
    socket.once('close', () => sockets.delete(socket));
    socket.pipe(socket);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

/** A real HTTP server standing in for the worker's control API. */
async function startControl(): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((request, response) => {
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify({ route: request.url, method: request.method }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as net.AddressInfo).port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** Write `payload` and read the same number of bytes back. */
async function roundTrip(socket: net.Socket, payload: Buffer): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let received = 0;
  const done = new Promise<void>((resolve, reject) => {
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      if (received >= payload.length) resolve();
    });
    socket.once('error', reject);
    socket.once('close', () => reject(new Error(`closed after ${received} of ${payload.length} bytes`)));
  });
  socket.write(payload);
  await done;
  return Buffer.concat(chunks);
}

/** Everything a socket receives until it closes. */
async function readAll(socket: net.Socket): Promise<string> {
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
  // Not events.once: it rejects on 'error', and a reset is one way a server may close.
  await new Promise((resolve) => {
    socket.on('error', () => undefined);
    socket.once('close', resolve);
  });
  return text;
}

async function rejection(promise: Promise<unknown>): Promise<HearthError> {
  const error = await promise.then(() => new Error('expected a failure'), (caught: unknown) => caught);
  expect(error).toBeInstanceOf(HearthError);
  return error as HearthError;
}

function connectRaw(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => resolve(socket));
    socket.once('error', reject);
  });
}

let echo: Awaited<ReturnType<typeof startEcho>>;
let control: Awaited<ReturnType<typeof startControl>>;
const servers: LinkServer[] = [];

beforeAll(async () => {
  echo = await startEcho();
  control = await startControl();
});
afterAll(async () => {
  await echo.close();
  await control.close();
});
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

async function startServer(overrides: Partial<LinkServerOptions> = {}): Promise<LinkServer & { failures: HandshakeFailure[] }> {
  const server = await startLinkServer({
    host: '127.0.0.1',
    port: 0,
    pskFor: (identity) => (identity.startsWith('member:') ? PSK : null),
    services: { rpc: { host: '127.0.0.1', port: echo.port }, control: { host: '127.0.0.1', port: control.port } },
    handlers: { hello: (socket, identity) => socket.end(`hello ${identity}\n`) },
    ...overrides,
  });
  servers.push(server);
  const failures: HandshakeFailure[] = [];
  server.on('handshake-failed', (failure) => failures.push(failure));
  return Object.assign(server, { failures });
}

function stream(server: LinkServer, overrides: Partial<LinkStreamOptions> = {}): Promise<tls.TLSSocket> {
  return openLinkStream({ host: '127.0.0.1', port: server.port, identity: MEMBER, psk: PSK, service: 'rpc', timeoutMs: 5_000, ...overrides });
}

/** Wait until `check` holds (the server accounts for closed sockets asynchronously). */
async function until(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('keys', () => {
  it('derive the link key from the cluster key, and the pairing key from the normalised code', async () => {
    expect(linkPsk(CLUSTER_KEY)).toEqual(PSK);
    expect(linkPsk(CLUSTER_KEY)).not.toEqual(CLUSTER_KEY);
    expect(linkPsk(randomBytes(32))).not.toEqual(PSK);
    expect(() => linkPsk(randomBytes(16))).toThrow(HearthError);
    const key = await pairingPsk('7k2m-q9xd 4tra');
    expect(key).toHaveLength(32);
    expect(await pairingPsk('7K2MQ9XD4TRA')).toEqual(key);
    expect(await pairingPsk('7K2M-Q9XD-4TRB')).not.toEqual(key);
  });
});

describe('the secure link', () => {
  it('carries an rpc stream to the local service, byte for byte, over the one cipher suite', async () => {
    const server = await startServer();
    const socket = await stream(server);
    expect(socket.getCipher().standardName).toBe('TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256');
    expect(socket.getProtocol()).toBe('TLSv1.2');
    const payload = randomBytes(4 * 1024 * 1024);
    expect((await roundTrip(socket, payload)).equals(payload)).toBe(true);
    socket.end();
    await once(socket, 'close');
    await until(() => server.stats().active === 0);
    expect(server.stats()).toMatchObject({ accepted: 1, handshakeFailures: 0, rejected: 0, handshaking: 0 });
  });

  it('carries HTTP to the control service, through a local endpoint as well', async () => {
    const server = await startServer();
    const endpoint = await startLocalEndpoint({ open: (stream) => openLinkStream({ host: '127.0.0.1', port: server.port, identity: MEMBER, psk: PSK, service: stream }), service: 'control', name: 'the peer' });
    try {
      const response = await fetch(`http://${endpoint.endpoint}/v1/status`);
      expect(await response.json()).toEqual({ route: '/v1/status', method: 'GET' });
      const posted = await fetch(`http://${endpoint.endpoint}/v1/cache`, { method: 'POST', body: 'x'.repeat(100_000) });
      expect(await posted.json()).toEqual({ route: '/v1/cache', method: 'POST' });
    } finally {
      await endpoint.close();
    }
  });

  it('serves HTTP in-process to a LinkAgent: no loopback endpoint, one kept-alive stream for many requests', async () => {
    const seen: string[] = [];
    const inProcess = http.createServer((request, response) => {
      let bytes = 0;
      request.on('data', (chunk: Buffer) => (bytes += chunk.length));
      request.on('end', () => response.end(JSON.stringify({ route: request.url, bytes })));
      seen.push(request.socket.constructor.name);
    });
    const server = await startServer({ services: { rpc: { host: '127.0.0.1', port: echo.port } }, handlers: { control: (socket) => void inProcess.emit('connection', socket) } });
    const agent = new LinkAgent(() => stream(server, { service: 'control' }));
    const put = (route: string, body: Buffer) => new Promise<unknown>((resolve, reject) => {
      const req = http.request(`http://worker${route}`, { method: 'PUT', agent, headers: { 'content-length': String(body.length) } }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve(JSON.parse(text)));
      });
      req.once('error', reject);
      req.end(body);
    });
    try {
      for (const size of [0, 1, 3_000_000]) expect(await put(`/v1/cache/entries/${size}`, Buffer.alloc(size, 1))).toEqual({ route: `/v1/cache/entries/${size}`, bytes: size });
      expect(seen).toEqual(['TLSSocket', 'TLSSocket', 'TLSSocket']);
      expect(server.stats().accepted).toBe(1);
      // A wrong key fails the request with the link's own error.
      const stranger = new LinkAgent(() => stream(server, { service: 'control', psk: randomBytes(32) }));
      await expect(new Promise((resolve, reject) => http.get('http://worker/', { agent: stranger }, resolve).once('error', reject))).rejects.toMatchObject({ code: 'link-wrong-key' });
      stranger.destroy();
    } finally {
      agent.destroy();
      inProcess.close();
    }
  });

  it('hands in-process services the stream and the identity the key was chosen for', async () => {
    const server = await startServer();
    const socket = await stream(server, { service: 'hello' });
    expect(await readAll(socket)).toBe(`hello ${MEMBER}\n`);
  });

  it('accepts the same cluster key under any member identity, derived on both ends', async () => {
    const server = await startServer({ pskFor: (identity) => (identity.startsWith('member:') ? linkPsk(Buffer.from(CLUSTER_KEY)) : null) });
    for (const identity of ['member:a', 'member:b']) {
      const socket = await stream(server, { identity, psk: linkPsk(CLUSTER_KEY), service: 'hello' });
      expect(await readAll(socket)).toBe(`hello ${identity}\n`);
    }
  });

  it('fails a wrong key on both ends with a message that says what to do', async () => {
    const server = await startServer();
    const error = await rejection(stream(server, { psk: linkPsk(randomBytes(32)) }));
    expect(error.code).toBe('link-wrong-key');
    expect(error.message).toContain(`127.0.0.1:${server.port} refused the secure link: its cluster key differs from this machine's`);
    expect(error.message).toContain('hearth pair');
    await until(() => server.failures.length === 1);
    expect(server.failures[0]).toMatchObject({ kind: 'wrong-key', identity: MEMBER, address: expect.stringMatching(/^127\.0\.0\.1:\d+$/) });
    expect(server.stats()).toMatchObject({ accepted: 0, handshakeFailures: 1, active: 0, handshaking: 0 });
  });

  it('fails an unknown identity exactly like a wrong key to the client, and says which on the server', async () => {
    const server = await startServer();
    const error = await rejection(stream(server, { identity: 'pair:nobody' }));
    expect(error.code).toBe('link-wrong-key');
    expect(error.message).toContain('pairing code');
    await until(() => server.failures.length === 1);
    expect(server.failures[0]).toMatchObject({ kind: 'unknown-identity', identity: 'pair:nobody' });
  });

  it('answers ERR for an unknown service, a service the identity may not use, or a service that is down', async () => {
    const server = await startServer({ allow: (identity, service) => identity !== 'member:limited' || service === 'hello' });
    expect((await rejection(stream(server, { service: 'shell' }))).message).toContain('refused the "shell" stream: unknown service');
    const refused = await rejection(stream(server, { identity: 'member:limited', service: 'rpc' }));
    expect(refused.code).toBe('link-refused');
    expect(refused.message).toContain('not allowed');
    const closed = net.createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const deadPort = (closed.address() as net.AddressInfo).port;
    closed.close();
    const down = await startServer({ services: { rpc: { host: '127.0.0.1', port: deadPort }, control: { host: '127.0.0.1', port: deadPort } } });
    expect((await rejection(stream(down))).message).toContain('service unavailable');
    await until(() => server.stats().active === 0);
    expect(server.stats().rejected).toBe(2);
  });

  it('names the address when the peer cannot be reached, and gives up on a silent one', async () => {
    const closed = net.createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as net.AddressInfo).port;
    closed.close();
    await once(closed, 'close');
    const unreachable = await rejection(openLinkStream({ host: '127.0.0.1', port, identity: MEMBER, psk: PSK, service: 'rpc' }));
    expect(unreachable.code).toBe('link-unreachable');
    expect(unreachable.message).toContain(`127.0.0.1:${port}`);

    const silent = net.createServer((socket) => socket.on('error', () => undefined));
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    try {
      const timeout = await rejection(openLinkStream({ host: '127.0.0.1', port: (silent.address() as net.AddressInfo).port, identity: MEMBER, psk: PSK, service: 'rpc', timeoutMs: 300 }));
      expect(timeout.code).toBe('link-timeout');
    } finally {
      silent.close();
    }
  });
});

describe('hostile input', () => {
  const limits = { handshakeTimeoutMs: 400, headerTimeoutMs: 400 };

  /** A good client still gets through: the server survived. */
  async function stillServes(server: LinkServer): Promise<void> {
    const socket = await stream(server);
    const payload = randomBytes(1024);
    expect((await roundTrip(socket, payload)).equals(payload)).toBe(true);
    socket.destroy();
  }

  it('closes plain-text, random-byte and truncated-handshake connections, then serves a good client', async () => {
    const server = await startServer({ limits });
    const plain = await connectRaw(server.port);
    plain.write('GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(await readAll(plain)).not.toContain('HTTP/1.1');
    const noise = await connectRaw(server.port);
    noise.write(randomBytes(4096));
    await readAll(noise);
    // The first bytes of a real ClientHello, then silence: the handshake deadline ends it.
    const truncated = await connectRaw(server.port);
    truncated.write((await clientHello()).subarray(0, 40));
    const started = Date.now();
    await readAll(truncated);
    expect(Date.now() - started).toBeLessThan(3_000);
    // A reset in the middle of a handshake.
    const reset = await connectRaw(server.port);
    reset.write((await clientHello()).subarray(0, 20));
    reset.resetAndDestroy();
    await until(() => server.stats().handshaking === 0);
    expect(server.failures.map((failure) => failure.kind)).toEqual(expect.arrayContaining(['not-tls', 'timeout']));
    await stillServes(server);
  });

  it('closes an authenticated connection that never sends its header, or an over-long one', async () => {
    const server = await startServer({ limits });
    const silent = await tlsConnect(server.port);
    expect(await readAll(silent)).toBe('ERR no header\n');
    const long = await tlsConnect(server.port);
    long.write(`HEARTH-LINK/1 ${'a'.repeat(200)}\n`);
    expect(await readAll(long)).toBe('ERR bad header\n');
    const garbage = await tlsConnect(server.port);
    garbage.write('HELLO rpc\n');
    expect(await readAll(garbage)).toBe('ERR bad header\n');
    await until(() => server.stats().active === 0);
    expect(server.stats()).toMatchObject({ accepted: 3, rejected: 3 });
    await stillServes(server);
  });

  it('survives a flood of 300 half-open connections: over the limit they are dropped at once, the rest time out', async () => {
    const server = await startServer({ limits: { ...limits, maxHandshakes: 64 } });
    const flood = await Promise.all(Array.from({ length: 300 }, () => connectRaw(server.port)));
    const closed = flood.map((socket) => readAll(socket));
    await Promise.all(closed);
    expect(server.stats().rejected).toBeGreaterThanOrEqual(300 - 64);
    await until(() => server.stats().handshaking === 0);
    await stillServes(server);
  });

  it('survives owner callbacks that throw: the one stream fails, the server keeps serving', async () => {
    const boom = (): never => {
      throw new Error('boom');
    };
    const server = await startServer({
      pskFor: (identity) => (identity === 'member:boom' ? boom() : PSK),
      allow: (_identity, service) => (service === 'control' ? boom() : true),
      handlers: { crash: boom },
    });
    expect((await rejection(stream(server, { identity: 'member:boom' }))).code).toBe('link-wrong-key');
    expect((await rejection(stream(server, { service: 'control' }))).code).toBe('link-closed');
    const crashed = await stream(server, { service: 'crash' });
    expect(await readAll(crashed)).toBe('');
    await stillServes(server);
  });

  it('drops new sockets at once above the stream limit, and serves again when streams close', async () => {
    const server = await startServer({ limits: { ...limits, maxStreams: 2 } });
    const held = [await stream(server), await stream(server)];
    const third = await connectRaw(server.port);
    await readAll(third);
    expect(server.stats()).toMatchObject({ active: 2, rejected: 1 });
    for (const socket of held) socket.destroy();
    await until(() => server.stats().active === 0);
    await stillServes(server);
  });
});

describe('local endpoint', () => {
  it('forwards many concurrent connections and counts their bytes', async () => {
    const server = await startServer();
    const endpoint = await startLocalEndpoint({ open: (stream) => openLinkStream({ host: '127.0.0.1', port: server.port, identity: MEMBER, psk: PSK, service: stream }), service: 'rpc', name: 'the peer' });
    try {
      const size = 256 * 1024;
      const results = await Promise.all(Array.from({ length: 40 }, async () => {
        const socket = await connectRaw(endpoint.port);
        const payload = randomBytes(size);
        const back = await roundTrip(socket, payload);
        socket.destroy();
        return back.equals(payload);
      }));
      expect(results.every(Boolean)).toBe(true);
      await until(() => endpoint.stats().active === 0 && server.stats().active === 0);
      expect(endpoint.stats()).toMatchObject({ connections: 40, failures: 0, bytesUp: 40 * size, bytesDown: 40 * size });
      // One more: the heartbeat's stream, open while connections were.
      expect(server.stats().accepted).toBe(41);
    } finally {
      await endpoint.close();
    }
  });

  it('closes local connections it cannot carry, and tells why', async () => {
    const server = await startServer();
    const errors: HearthError[] = [];
    const endpoint = await startLocalEndpoint({ open: (stream) => openLinkStream({ host: '127.0.0.1', port: server.port, identity: MEMBER, psk: linkPsk(randomBytes(32)), service: stream }), service: 'rpc', name: 'the peer', onError: (error) => errors.push(error) });
    try {
      const socket = await connectRaw(endpoint.port);
      socket.write('hello');
      expect(await readAll(socket)).toBe('');
      expect(errors.map((error) => error.code)).toEqual(['link-wrong-key']);
      expect(endpoint.stats()).toMatchObject({ connections: 1, failures: 1, bytesUp: 0 });
    } finally {
      await endpoint.close();
    }
  });

  it('closes the stream on both sides when either end goes away', async () => {
    const server = await startServer();
    const endpoint = await startLocalEndpoint({ open: (stream) => openLinkStream({ host: '127.0.0.1', port: server.port, identity: MEMBER, psk: PSK, service: stream }), service: 'rpc', name: 'the peer' });
    try {
      const socket = await connectRaw(endpoint.port);
      await roundTrip(socket, Buffer.from('ping'));
      // Its stream and the heartbeat's.
      await until(() => server.stats().active === 2);
      await server.close();
      await readAll(socket);
      await until(() => endpoint.stats().active === 0);
    } finally {
      await endpoint.close();
    }
  });
});

/** An authenticated TLS connection to the link that has not sent its header yet. */
function tlsConnect(port: number): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ...LINK_TLS, checkServerIdentity: () => undefined, pskCallback: () => ({ identity: MEMBER, psk: PSK }) }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** The bytes of a real link ClientHello, caught by a plain TCP server. */
async function clientHello(): Promise<Buffer> {
  const catcher = net.createServer();
  catcher.listen(0, '127.0.0.1');
  await once(catcher, 'listening');
  const [socket] = (await Promise.all([
    once(catcher, 'connection'),
    (async () => {
      const client = tls.connect({ host: '127.0.0.1', port: (catcher.address() as net.AddressInfo).port, ...LINK_TLS, checkServerIdentity: () => undefined, pskCallback: () => ({ identity: MEMBER, psk: PSK }) });
      client.on('error', () => undefined);
      return client;
    })(),
  ]))[0] as [net.Socket];
  const [hello] = (await once(socket, 'data')) as [Buffer];
  socket.destroy();
  catcher.close();
  return hello;
}

/** A TCP relay to `port` that can go silent like an unplugged cable: bytes dropped both ways, nothing closed. */
async function startRelay(port: number): Promise<{ port: number; blackhole(): void; close(): Promise<void> }> {
  let silent = false;
  const sockets = new Set<net.Socket>();
  const keep = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('error', () => socket.destroy());
    socket.once('close', () => sockets.delete(socket));
  };
  const relay = net.createServer((inbound) => {
    const outbound = net.connect({ host: '127.0.0.1', port });
    keep(inbound);
    keep(outbound);
    inbound.on('data', (chunk: Buffer) => void (silent || outbound.write(chunk)));
    outbound.on('data', (chunk: Buffer) => void (silent || inbound.write(chunk)));
    // A silent cable carries no FIN either.
    inbound.once('end', () => silent || outbound.end());
    outbound.once('end', () => silent || inbound.end());
  });
  relay.listen(0, '127.0.0.1');
  await once(relay, 'listening');
  return {
    port: (relay.address() as net.AddressInfo).port,
    blackhole: () => void (silent = true),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      relay.close();
      await once(relay, 'close');
    },
  };
}

describe('liveness', () => {
  const beat = { intervalMs: 50, timeoutMs: 500 };

  it('closes a local endpoint\'s connections when the peer goes silent, and names it', async () => {
    const server = await startServer({ beat });
    const relay = await startRelay(server.port);
    const errors: HearthError[] = [];
    const endpoint = await startLocalEndpoint({ open: (stream) => openLinkStream({ host: '127.0.0.1', port: relay.port, identity: MEMBER, psk: PSK, service: stream }), service: 'rpc', name: 'worker-x', beat, onError: (error) => errors.push(error) });
    try {
      const socket = await connectRaw(endpoint.port);
      await roundTrip(socket, Buffer.from('ping'));
      relay.blackhole();
      // Without liveness this socket would wait forever: TCP never learns of a silent peer.
      await readAll(socket);
      expect(errors.map((error) => error.code)).toEqual(['peer-lost']);
      expect(endpoint.stats().failure).toMatch(/^worker-x stopped answering: no heartbeat for 0.5 s/);
    } finally {
      await endpoint.close();
      await relay.close();
    }
  });

  it('fails a LinkAgent\'s request under way when the peer goes silent, naming it', async () => {
    // A control API that takes its time: the request is under way when the cable goes.
    const server = await startServer({ beat, services: { rpc: { host: '127.0.0.1', port: echo.port } }, handlers: { control: (socket) => socket.resume() } });
    const relay = await startRelay(server.port);
    const open = (service: string) => openLinkStream({ host: '127.0.0.1', port: relay.port, identity: MEMBER, psk: PSK, service, timeoutMs: 5_000 });
    const agent = new LinkAgent(() => open('control'), { name: 'worker-x', openBeat: () => open('beat'), timing: beat });
    try {
      const answer = new Promise((resolve, reject) => http.get('http://worker/v1/cache', { agent }, resolve).once('error', reject));
      await until(() => server.stats().active === 2);
      relay.blackhole();
      await expect(answer).rejects.toMatchObject({ code: 'peer-lost', message: expect.stringMatching(/^worker-x stopped answering: no heartbeat for 0.5 s/) });
    } finally {
      agent.destroy();
      await relay.close();
    }
  });

  it('gives a one-at-a-time service to one stream, refuses another naming the holder, and frees it when the holder goes silent', async () => {
    const server = await startServer({ beat, services: { rpc: { host: '127.0.0.1', port: echo.port, oneAtATime: true } }, nameOf: (identity) => (identity === MEMBER ? 'coordinator-a' : null) });
    const silent: unknown[] = [];
    server.on('peer-silent', (peer) => silent.push(peer));
    const relay = await startRelay(server.port);
    const holder = await startLocalEndpoint({ open: (stream) => openLinkStream({ host: '127.0.0.1', port: relay.port, identity: MEMBER, psk: PSK, service: stream }), service: 'rpc', name: 'the peer', beat });
    try {
      const held = await connectRaw(holder.port);
      await roundTrip(held, Buffer.from('mine'));
      const busy = await rejection(stream(server, { identity: 'member:other' }));
      expect(busy.code).toBe('link-refused');
      expect(busy.message).toMatch(/busy: its worker serves coordinator-a \(127\.0\.0\.1\), since .*; it takes one coordinator at a time/);
      relay.blackhole();
      await until(() => silent.length === 1, 10_000);
      expect(silent).toEqual([{ address: '127.0.0.1', name: 'coordinator-a', streams: 1, why: 'silent' }]);
      const next = await stream(server, { identity: 'member:other' });
      expect((await roundTrip(next, Buffer.from('now mine'))).toString()).toBe('now mine');
      next.destroy();
    } finally {
      await holder.close();
      await relay.close();
    }
  });
});
