// The worker's control API: HTTP + JSON on loopback, made to be carried over the secure link
// between peers. Every argument is checked; mistakes get a 4xx that says what was wrong.
import { createReadStream } from 'node:fs';
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isAllowedHost, urlHost } from '../api/host-check.js';
import { HttpError, sendJson, UPLOAD_SERVER_TIMEOUTS } from '../api/http-replies.js';
import { entryPath, EntryRefusedError } from '../cache/entry-files.js';
import { HearthError } from '../errors.js';
import { resumablePut, transferRoute, wantsResume, type TransferTarget } from './cache-transfer-routes.js';
import { decodePart, entryHash, hashList, jsonObject } from './control-args.js';
import type { WorkerService } from './worker-service.js';

/** The cluster side of a machine, when it runs one: peers and pairing. */
export interface ClusterControl {
  peers(): unknown[];
  identity: { deviceId: string; deviceName: string };
  fingerprint: string;
  pairing: { open(): Promise<{ code: string; expiresAt: number }> };
  join(code: string, extra: { host: string; port: number }[]): Promise<{ memberName: string; fingerprint: string }>;
  addPeer(host: string, port: number): Promise<unknown>;
  leave(): Promise<{ fingerprint: string }>;
  revoke(peerRef: string): Promise<{ fingerprint: string; updated: string[]; missed: string[] }>;
  /** A loopback endpoint to a member peer's service through the secure link (refuses peers that are not members). */
  endpointFor(peerId: string, service: 'rpc' | 'control'): Promise<string>;
}

/** What the control API serves: the worker, facts about its tools, and the cluster once it runs. */
export interface ControlTarget {
  worker: WorkerService;
  release: string;
  /** Resumable uploads, the model folders and fills from them, fetches from peers. */
  transfer: TransferTarget;
  cluster?: ClusterControl;
}

/** A running control API. */
export interface ControlApi {
  url: string;
  port: number;
  /** Serve HTTP on a stream that is already connected: the secure link hands its authenticated streams here, so they skip a hop through loopback TCP. */
  accept(socket: Duplex): void;
  close(): Promise<void>;
}

const HASH_PATH = /^\/v1\/cache\/entries\/([^/]+)$/;
const PIN_PATH = /^\/v1\/cache\/pins\/([^/]+)$/;

/** Start the control API on host:port (0 = any free port). */
export async function startControlApi(target: ControlTarget, host: string, port: number): Promise<ControlApi> {
  let boundPort = port;
  // One tensor pushed at a --max-rate can take longer than Node's default 5 minutes.
  const server = http.createServer(UPLOAD_SERVER_TIMEOUTS, (req, res) => {
    // Refuse names a DNS-rebinding page could use to reach a loopback service. The port is not
    // checked: clients coming through the secure link do not know the local port it forwards to.
    const hostName = (req.headers.host ?? '').replace(/:\d+$/, '');
    if (!isAllowedHost(`${hostName}:${boundPort}`, { port: boundPort, listenHost: host, localAddress: req.socket.localAddress })) {
      return sendJson(res, 403, { error: 'Host not allowed: address the worker by its IP address or localhost.' });
    }
    // Browsers send Origin; Hearth's own clients never do. A web page must not clear a cache with a form post.
    if (req.headers.origin !== undefined) return sendJson(res, 403, { error: 'The worker API does not answer web pages.' });
    route(target, req, res).catch((error: unknown) => {
      if (res.headersSent) return void res.destroy();
      if (error instanceof HttpError) return sendJson(res, error.status, { error: error.message });
      if (error instanceof EntryRefusedError) return sendJson(res, error.reason === 'bad-name' ? 400 : 422, { error: error.message, reason: error.reason });
      if (error instanceof HearthError) return sendJson(res, error.code === 'cache-full' || error.code === 'disk-full' ? 507 : 400, { error: error.message, code: error.code });
      sendJson(res, 500, { error: `Internal error: ${(error as Error).message}` });
    });
  });
  boundPort = await new Promise<number>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(new HearthError(error.code === 'EADDRINUSE' ? 'port-in-use' : 'listen-failed', `The worker's control API cannot listen on ${host}:${port}: ${error.message}`)),
    );
    server.listen(port, host, () => resolve((server.address() as { port: number }).port));
  });
  return {
    url: `http://${urlHost(host)}:${boundPort}/`,
    port: boundPort,
    accept: (socket) => void server.emit('connection', socket),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function route(target: ControlTarget, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const { worker } = target;
  const cache = worker.cache;
  const url = new URL(req.url ?? '/', 'http://worker');
  const key = `${req.method} ${url.pathname}`;

  switch (key) {
    case 'GET /v1/status':
      return sendJson(res, 200, { release: target.release, worker: worker.status, cache: cache.summary() });
    case 'GET /v1/worker/log':
      return sendJson(res, 200, { lines: worker.logTail() });
    case 'GET /v1/devices':
      return sendJson(res, 200, { devices: await worker.refreshDevices() });
    case 'GET /v1/cache':
      return sendJson(res, 200, cache.summary());
    case 'GET /v1/cache/entries':
      return sendJson(res, 200, { entries: cache.entries() });
    case 'POST /v1/cache/has': {
      const hashes = hashList(await jsonObject(req), 'hashes');
      return sendJson(res, 200, { present: hashes.filter((hash) => cache.has(hash)), missing: hashes.filter((hash) => !cache.has(hash)) });
    }
    case 'POST /v1/cache/verify':
      return sendJson(res, 200, await cache.verifyAll());
    case 'POST /v1/cache/clear': {
      const body = await jsonObject(req, true);
      if (body.model !== undefined && typeof body.model !== 'string') throw new HttpError(400, '"model" must be a model id string');
      return sendJson(res, 200, await cache.clear(body.model as string | undefined));
    }
    case 'POST /v1/cache/pins': {
      const body = await jsonObject(req);
      const ttlSeconds = body.ttlSeconds ?? 600;
      if (typeof ttlSeconds !== 'number' || !(ttlSeconds > 0 && ttlSeconds <= 86_400)) throw new HttpError(400, '"ttlSeconds" must be a number of seconds from 1 to 86400');
      return sendJson(res, 201, { id: cache.pin(hashList(body, 'hashes'), ttlSeconds * 1000) });
    }
    case 'POST /v1/models': {
      const body = await jsonObject(req);
      if (typeof body.id !== 'string' || !/^[\w.:-]{1,128}$/.test(body.id)) throw new HttpError(400, '"id" must be 1-128 letters, digits or ._:-');
      if (typeof body.name !== 'string' || body.name.length > 512) throw new HttpError(400, '"name" must be a string of at most 512 characters');
      cache.registerModel(body.id, body.name, hashList(body, 'hashes'));
      res.statusCode = 204;
      return void res.end();
    }
    case 'GET /v1/settings':
      return sendJson(res, 200, settings(target));
    case 'PATCH /v1/settings': {
      const body = await jsonObject(req);
      if (!('cacheMaxBytes' in body) && !('modelDirs' in body)) throw new HttpError(400, 'Nothing to change: send {"cacheMaxBytes": bytes | null} and/or {"modelDirs": ["/absolute/folder", …]}');
      const cap = body.cacheMaxBytes;
      if ('cacheMaxBytes' in body && cap !== null && (typeof cap !== 'number' || !Number.isSafeInteger(cap) || cap < 0)) throw new HttpError(400, '"cacheMaxBytes" must be a whole number of bytes, or null for the default');
      if ('modelDirs' in body && !Array.isArray(body.modelDirs)) throw new HttpError(400, '"modelDirs" must be a list of absolute folder paths ([] for none)');
      // Both are checked before either changes: the folders are checked (they must exist) as they are set.
      if ('modelDirs' in body) await target.transfer.models.setDirs(body.modelDirs as unknown[]);
      if ('cacheMaxBytes' in body) await cache.setCap(cap as number | null);
      return sendJson(res, 200, settings(target));
    }
  }

  if (url.pathname.startsWith('/v1/peers') || url.pathname.startsWith('/v1/pairing') || url.pathname === '/v1/identity') {
    return clusterRoute(target, req, res, key);
  }
  if (await transferRoute(target.transfer, target.cluster, req, res, url.pathname)) return;
  const entry = HASH_PATH.exec(url.pathname);
  if (entry) return entryRoute(target, req, res, entryHash(entry[1]!));
  const pin = PIN_PATH.exec(url.pathname);
  if (pin && req.method === 'DELETE') {
    res.statusCode = cache.unpin(decodePart(pin[1]!)) ? 204 : 404;
    return void res.end();
  }
  sendJson(res, 404, { error: `No such route: ${req.method} ${url.pathname}` });
}

async function entryRoute(target: ControlTarget, req: http.IncomingMessage, res: http.ServerResponse, hash: string): Promise<void> {
  const cache = target.worker.cache;
  switch (req.method) {
    case 'PUT': {
      if (wantsResume(req)) return resumablePut(target.transfer.ingests, req, res, hash);
      const length = req.headers['content-length'];
      if (length === undefined || !/^\d+$/.test(length)) throw new HttpError(411, 'PUT of an entry needs a Content-Length: the entry\'s size in bytes');
      const { created } = await cache.put(hash, Number(length), req);
      return sendJson(res, created ? 201 : 200, { hash, created });
    }
    case 'GET': {
      // Only verified bytes leave the worker: a peer filling its cache from ours must get good data.
      const verified = await cache.verify(hash);
      if (!verified.ok) return sendJson(res, 404, { error: `No usable entry ${hash} (${verified.reason})` });
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': verified.size });
      // pipeline closes the file when the client goes away mid-transfer.
      await pipeline(createReadStream(entryPath(cache.dir, hash)), res).catch(() => res.destroy());
      return;
    }
    case 'DELETE': {
      if (!cache.has(hash)) return sendJson(res, 404, { error: `No entry ${hash}` });
      if (cache.isHeld(hash)) return sendJson(res, 409, { error: `Entry ${hash} is held by a load (pinned or in use): it cannot be removed now` });
      await cache.remove(hash);
      res.statusCode = 204;
      return void res.end();
    }
    default:
      res.setHeader('Allow', 'GET, PUT, DELETE');
      return sendJson(res, 405, { error: `Use GET, PUT or DELETE on an entry` });
  }
}

async function clusterRoute(target: ControlTarget, req: http.IncomingMessage, res: http.ServerResponse, key: string): Promise<void> {
  const cluster = target.cluster;
  if (!cluster) return sendJson(res, 404, { error: 'This worker runs without the cluster (no secure link).' });
  switch (key) {
    case 'GET /v1/peers':
      return sendJson(res, 200, { peers: cluster.peers() });
    case 'POST /v1/peers': {
      const body = await jsonObject(req);
      const address = typeof body.address === 'string' ? parseAddress(body.address) : undefined;
      if (!address) throw new HttpError(400, '"address" must be "host:port" (the peer\'s secure link port, 7436 by default)');
      return sendJson(res, 201, await cluster.addPeer(address.host, address.port));
    }
    case 'GET /v1/identity':
      return sendJson(res, 200, { ...cluster.identity, fingerprint: cluster.fingerprint });
    case 'POST /v1/pairing':
      return sendJson(res, 200, await cluster.pairing.open());
    case 'POST /v1/pairing/join': {
      const body = await jsonObject(req);
      if (typeof body.code !== 'string') throw new HttpError(400, '"code" must be the pairing code shown by a member');
      const peers = body.peers ?? [];
      const extra = Array.isArray(peers) ? peers.map((peer) => (typeof peer === 'string' ? parseAddress(peer) : undefined)) : [undefined];
      if (extra.some((peer) => peer === undefined)) throw new HttpError(400, '"peers" must be a list of "host:port"');
      return sendJson(res, 200, await cluster.join(body.code, extra as { host: string; port: number }[]));
    }
    case 'POST /v1/pairing/leave':
      return sendJson(res, 200, await cluster.leave());
    case 'POST /v1/pairing/revoke': {
      const body = await jsonObject(req);
      if (typeof body.peer !== 'string' || body.peer.length > 256) throw new HttpError(400, '"peer" must be the id or name of the machine to revoke');
      return sendJson(res, 200, await cluster.revoke(body.peer));
    }
    default:
      return sendJson(res, 404, { error: `No such route: ${key}` });
  }
}

/** "host:port" with a sane host and a port from 1 to 65535, or undefined. */
function parseAddress(text: string): { host: string; port: number } | undefined {
  const match = /^([\w.-]{1,253}):(\d{1,5})$/.exec(text);
  const port = Number(match?.[2]);
  return match && port >= 1 && port <= 65535 ? { host: match[1]!, port } : undefined;
}

function settings(target: ControlTarget) {
  const cache = target.worker.cache;
  return { cacheDir: cache.dir, cacheMaxBytes: cache.capBytes, cacheMaxIsDefault: cache.summary().capIsDefault, modelDirs: target.transfer.models.dirs };
}
