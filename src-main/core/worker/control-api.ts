// The worker's control API: HTTP + JSON on loopback, made to be carried over the secure link
// between peers. The routes, what each takes and answers, are the worker contract
// (worker-api/routes.ts): every request is decoded against it, and a mistake gets a 4xx that says
// what was wrong.
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { DecodeError } from '../base/decode.js';
import { HearthError } from '../base/errors.js';
import { EntryRefusedError } from '../cache/entry-files.js';
import { isAllowedHost, urlHost } from '../net/host-check.js';
import { HttpError, readJsonBody, sendJson, UPLOAD_SERVER_TIMEOUTS } from '../net/http-replies.js';
import { allowedMethods, ENTRY_BYTES_PATH, matchPath, matchRoute, WORKER_ROUTES } from '../worker-api/routes.js';
import { entryHash } from '../worker-api/wire.js';
import { entryBytesRoute } from './entry-routes.js';
import { WORKER_HANDLERS, type ControlTarget } from './worker-handlers.js';

export type { ClusterControl, ControlTarget, TransferTarget } from './worker-handlers.js';

/** A running control API. */
export interface ControlApi {
  url: string;
  port: number;
  /** Serve HTTP on a stream that is already connected: the secure link hands its authenticated streams here, so they skip a hop through loopback TCP. */
  accept(socket: Duplex): void;
  close(): Promise<void>;
}

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
      if (error instanceof DecodeError) return sendJson(res, 400, { error: error.message });
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
  const { pathname } = new URL(req.url ?? '/', 'http://worker');
  const bytes = req.method === 'GET' || req.method === 'PUT' ? matchPath(ENTRY_BYTES_PATH, pathname) : null;
  if (bytes) return entryBytesRoute(target.worker.cache, target.transfer.ingests, req, res, entryHash(bytes.hash, 'hash'));
  const matched = matchRoute(req.method ?? 'GET', pathname);
  if (!matched) {
    const allowed = allowedMethods(pathname);
    if (allowed.length === 0) return sendJson(res, 404, { error: `No such route: ${req.method} ${pathname}` });
    res.setHeader('Allow', allowed.join(', '));
    return sendJson(res, 405, { error: `Use ${allowed.join(' or ')} on ${pathname}` });
  }
  const spec = WORKER_ROUTES[matched.name];
  const body = await readJsonBody(req);
  if (body !== undefined && (typeof body !== 'object' || body === null || Array.isArray(body))) throw new HttpError(400, 'The body must be a JSON object');
  const input = spec.input({ ...(body as object | undefined), ...matched.params });
  const answer = await (WORKER_HANDLERS[matched.name] as (input: unknown, target: ControlTarget, req: http.IncomingMessage) => unknown)(input, target, req);
  if (spec.status === 204) {
    res.statusCode = 204;
    return void res.end();
  }
  sendJson(res, spec.status, answer);
}
