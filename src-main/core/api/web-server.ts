// The web transport: the built UI, one POST route per request and a WebSocket for events, so a
// browser on a headless box gets the same contract the Electron preload gives the app window.
// Plain HTTP on loopback; anywhere else HTTPS only, with the machine's self-signed certificate
// (self-signed-cert.ts). Each request reaches the core through the view of the kind of connection
// it came on (transport-guard.ts), so what hands over the cluster never crosses the LAN in clear.
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { WebSocketServer, type WebSocket } from 'ws';
import { HearthError, isHearthError } from '../base/errors.js';
import { eventNames, type HearthEvents, type HearthRequests } from './contract.js';
import { isAllowedHost, isLoopback, isSameOrigin, urlHost } from '../net/host-check.js';
import type { TransportHost, TransportKind } from './host.js';
import { HttpError, readJsonBody, sendJson, setSecurityHeaders, UPLOAD_SERVER_TIMEOUTS } from '../net/http-replies.js';
import { BadArgument, requestArguments } from './request-arguments.js';
import { listen } from '../net/listen.js';
import { bearerToken, isSecret } from '../net/secrets.js';
import { serveStatic } from './static-files.js';
import { receiveUpload } from './upload-route.js';

/** How to start the web transport. */
export interface WebServerOptions {
  /** Interface to listen on; loopback unless the user asks otherwise. */
  host?: string;
  /** 0 picks a free port. */
  port: number;
  /** The built UI (`dist/renderer`). */
  staticDir: string;
  hearth: TransportHost;
  /** Serve HTTPS with this key and certificate (PEM); required off loopback. */
  tls?: { keyPem: string; certPem: string } | undefined;
  /** When set, every API and WebSocket call must carry it; required off loopback. */
  token?: string | undefined;
  /** Where model files sent from a browser are kept (`PUT /api/upload`); no uploads when left out. */
  uploadDir?: string | undefined;
}

/** A running web transport. */
export interface WebServer {
  /** e.g. `http://127.0.0.1:41234/`, or `https://…` with TLS. */
  url: string;
  close(): Promise<void>;
}

const PING_INTERVAL_MS = 30_000;


/** Start serving; resolves once listening. */
export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
  const host = options.host ?? '127.0.0.1';
  const token = options.token || undefined;
  if (!token && !isLoopback(host)) {
    throw new HearthError('web-token-required', `Serving the UI on ${host} would let anyone on the network control Hearth: set a token, or listen on 127.0.0.1.`);
  }
  if (!options.tls && !isLoopback(host)) {
    throw new HearthError('web-tls-required', `Serving the UI on ${host} over plain HTTP would show its token, the API key and pairing codes to anyone on the network: serve it with a certificate (HTTPS), or listen on 127.0.0.1.`);
  }
  const staticRoot = path.resolve(options.staticDir);
  const hearth = options.hearth;
  let port = options.port;

  const allowed = (req: http.IncomingMessage): boolean =>
    isAllowedHost(req.headers.host, { port, listenHost: host, localAddress: req.socket.localAddress });

  // A model upload takes as long as it takes (the upload route has its own idle timeout).
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: `Internal error: ${String(error)}` });
      else res.destroy();
    });
  };
  const server = options.tls
    ? https.createServer({ ...UPLOAD_SERVER_TIMEOUTS, key: options.tls.keyPem, cert: options.tls.certPem }, onRequest)
    : http.createServer(UPLOAD_SERVER_TIMEOUTS, onRequest);

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    setSecurityHeaders(res, req.headers.host, isEncrypted(req.socket));
    if (!allowed(req)) return sendJson(res, 403, { error: 'Host not allowed: open Hearth by its address or localhost.' });
    const rawPath = (req.url ?? '/').split('?')[0] ?? '/';
    if (rawPath === '/api' || rawPath.startsWith('/api/')) return handleApi(req, res, rawPath.slice('/api/'.length));
    return serveStatic(req, res, rawPath, staticRoot);
  }

  async function handleApi(req: http.IncomingMessage, res: http.ServerResponse, name: string): Promise<void> {
    res.setHeader('Cache-Control', 'no-store');
    if (token && !isSecret(bearerToken(req.headers.authorization), token)) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      return sendJson(res, 401, { error: 'Missing or wrong token: open the URL Hearth printed, with its ?token=.' });
    }
    if (!isSameOrigin(req)) return sendJson(res, 403, { error: 'Cross-origin requests are not allowed.' });
    if (name === 'upload' && options.uploadDir) return handleUpload(req, res, options.uploadDir);
    if (!Object.hasOwn(requestArguments, name)) return sendJson(res, 404, { error: `No such request: ${name}` });
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST');
      return sendJson(res, 405, { error: `Use POST for /api/${name}` });
    }
    try {
      const body = await readJsonBody(req);
      const key = name as keyof HearthRequests;
      const args = requestArguments[key](body === undefined ? [] : [body]);
      const { requests } = hearth.over(transportKind(req.socket));
      const result = await (requests[key] as (...a: unknown[]) => Promise<unknown>).apply(requests, args);
      sendJson(res, 200, result ?? null);
    } catch (error) {
      if (error instanceof BadArgument) return sendJson(res, 400, { error: error.message });
      if (error instanceof HttpError) {
        // The rest of an oversized body is still on the wire: this connection cannot carry another request.
        if (error.status === 413) res.setHeader('Connection', 'close');
        return sendJson(res, error.status, { error: error.message });
      }
      if (isHearthError(error)) return sendJson(res, error.code === 'insecure-transport' ? 403 : 500, { error: error.message, code: error.code });
      sendJson(res, 500, { error: `Internal error: ${error instanceof Error ? error.message : String(error)}` });
    }
  }

  async function handleUpload(req: http.IncomingMessage, res: http.ServerResponse, dir: string): Promise<void> {
    if (req.method !== 'PUT') {
      res.setHeader('Allow', 'PUT');
      return sendJson(res, 405, { error: 'Use PUT for /api/upload' });
    }
    try {
      sendJson(res, 201, { path: await receiveUpload(req, dir) });
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      // The rest of a refused body may still be on the wire: this connection cannot carry another request.
      res.setHeader('Connection', 'close');
      sendJson(res, error.status, { error: error.message });
    }
  }

  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  const alive = new WeakSet<WebSocket>();
  server.on('upgrade', (req, socket: Duplex, head) => {
    const url = new URL(req.url ?? '/', 'http://placeholder');
    const refuse = (status: string): void => {
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (!allowed(req) || !isSameOrigin(req)) return refuse('403 Forbidden');
    if (url.pathname !== '/api/events') return refuse('404 Not Found');
    if (token && !isSecret(url.searchParams.get('token') ?? bearerToken(req.headers.authorization), token)) return refuse('401 Unauthorized');
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  wss.on('connection', (ws, req: http.IncomingMessage) => {
    alive.add(ws);
    ws.on('pong', () => alive.add(ws));
    ws.on('error', () => ws.terminate());
    // Each client hears the events as its own connection may: its kind decides, as for its requests.
    const view = hearth.over(transportKind(req.socket));
    const unsubscribers = eventNames.map((event) =>
      view.on(event, (payload) => {
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ event, payload }));
      }),
    );
    ws.on('close', () => {
      for (const off of unsubscribers) off();
    });
    // A client that reconnects after a drop (sleep, Wi-Fi, a restarted server) would otherwise show
    // stale state until the next change: it gets each view as it is now.
    const { requests } = view;
    const snapshots: [keyof HearthEvents, () => Promise<unknown>][] = [['status', () => requests.getStatus()], ['cluster', () => requests.getCluster()], ['session', () => requests.getSession()], ['settings', () => requests.getSettings()]];
    for (const [event, snapshot] of snapshots) {
      snapshot().then(
        (payload) => {
          if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ event, payload }));
        },
        () => undefined,
      );
    }
  });

  // Drop clients whose connection died without a close, so they do not pile up.
  const pinger = setInterval(() => {
    for (const ws of wss.clients) {
      if (!alive.has(ws)) ws.terminate();
      else {
        alive.delete(ws);
        ws.ping();
      }
    }
  }, PING_INTERVAL_MS);
  pinger.unref();

  try {
    port = await listen(server, host, options.port, 'with --port');
  } catch (error) {
    clearInterval(pinger);
    throw error;
  }

  return {
    url: `${options.tls ? 'https' : 'http'}://${urlHost(host)}:${port}/`,
    close: async () => {
      clearInterval(pinger);
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** Whether a connection is TLS. */
function isEncrypted(socket: net.Socket): boolean {
  return (socket as TLSSocket).encrypted === true;
}

/** How a request's connection carries it, from the socket itself: TLS, loopback, or plain across the LAN. */
function transportKind(socket: net.Socket): TransportKind {
  if (isEncrypted(socket)) return 'https';
  return isLoopback(socket.remoteAddress ?? '') ? 'loopback-http' : 'lan-http';
}
