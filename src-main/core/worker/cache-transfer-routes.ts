// The control API's routes that bring entries into the cache other than by a plain PUT:
// resumable uploads (ingests), filling from local model files, and fetching from a member peer.
import type http from 'node:http';
import { HttpError, sendJson } from '../net/http-replies.js';
import { IngestConflictError, type IngestStore } from '../cache/ingest-store.js';
import { HearthError } from '../base/errors.js';
import type { PeerFetch, PeerControlEndpoints } from './cache-fetch.js';
import type { LocalFill } from './cache-fill.js';
import { byteCountHeader, entryHash, hashList, jsonObject } from './control-args.js';
import type { LocalModels } from './local-models.js';

/** What these routes work with; runWorker makes one per worker. */
export interface TransferTarget {
  ingests: IngestStore;
  models: LocalModels;
  fill: LocalFill;
  fetch: PeerFetch;
}

/** The cluster as a fetch needs it: who this machine is, and endpoints to members. */
export interface FetchCluster extends PeerControlEndpoints {
  identity: { deviceId: string };
}

const RESUME_HEADERS = ['x-hearth-resumable', 'x-hearth-entry-size', 'x-hearth-offset'];
const INGEST_PATH = /^\/v1\/cache\/ingests\/([^/]+)$/;

// Why a member cannot be fetched from, as the cluster says it, and the status that fits. Never
// 404: clients read a 404 from this route as "a worker too old to fetch" and push instead.
const PEER_REFUSALS = new Map([['unknown-peer', 409], ['not-a-member', 403], ['incompatible-peer', 409]]);

/** Whether a PUT of an entry asks for the resumable protocol (any of its headers). */
export function wantsResume(req: http.IncomingMessage): boolean {
  return RESUME_HEADERS.some((name) => req.headers[name] !== undefined);
}

/**
 * `PUT /v1/cache/entries/<hash>` with `X-Hearth-Resumable: 1`, `X-Hearth-Entry-Size: <total>`,
 * `X-Hearth-Offset: <n>` (default 0) and Content-Length = total - n: the bytes continue the
 * entry's ingest; on the last one it is verified and admitted (201), a wrong offset gets 409
 * with the ingest's offset, bytes that are not the entry 422 (and the ingest is deleted).
 */
export async function resumablePut(ingests: IngestStore, req: http.IncomingMessage, res: http.ServerResponse, hash: string): Promise<void> {
  if (req.headers['x-hearth-resumable'] !== '1') throw new HttpError(400, 'A resumable PUT needs X-Hearth-Resumable: 1 (with X-Hearth-Entry-Size and optionally X-Hearth-Offset)');
  const size = byteCountHeader(req, 'X-Hearth-Entry-Size');
  if (size === undefined) throw new HttpError(400, 'A resumable PUT needs X-Hearth-Entry-Size: the whole entry\'s size in bytes');
  const offset = byteCountHeader(req, 'X-Hearth-Offset') ?? 0;
  if (offset > size) throw new HttpError(400, `X-Hearth-Offset (${offset}) is past the end of the entry (${size} bytes)`);
  const length = byteCountHeader(req, 'Content-Length');
  if (length === undefined) throw new HttpError(411, 'A resumable PUT needs a Content-Length: the bytes from X-Hearth-Offset to the end');
  if (length !== size - offset) throw new HttpError(400, `Content-Length must be the bytes from X-Hearth-Offset to the end of the entry (${size} - ${offset} = ${size - offset}), got ${length}`);
  try {
    const outcome = await ingests.write(hash, size, offset, req, () => req.destroy());
    if (outcome.done) return sendJson(res, outcome.created ? 201 : 200, { hash, created: outcome.created });
    // The bytes stopped short (the client is usually gone by now): where to continue from.
    if (!res.destroyed) sendJson(res, 202, { hash, size, offset: outcome.offset });
  } catch (error) {
    if (!(error instanceof IngestConflictError)) throw error;
    sendJson(res, 409, { error: error.message, offset: error.offset });
  }
}

/** Serve the route if it is one of these; false when it is not. */
export async function transferRoute(target: TransferTarget, cluster: FetchCluster | undefined, req: http.IncomingMessage, res: http.ServerResponse, pathname: string): Promise<boolean> {
  const key = `${req.method} ${pathname}`;
  if (key === 'GET /v1/cache/ingests') {
    sendJson(res, 200, { ingests: target.ingests.list() });
    return true;
  }
  if (key === 'POST /v1/cache/fill') {
    const hashes = hashList(await jsonObject(req), 'hashes');
    sendJson(res, 200, await target.fill.fill(hashes));
    return true;
  }
  if (key === 'POST /v1/cache/fetch') {
    await fetchRoute(target, cluster, req, res);
    return true;
  }
  const ingest = INGEST_PATH.exec(pathname);
  if (!ingest) return false;
  const hash = entryHash(ingest[1]!);
  if (req.method === 'GET') {
    const info = target.ingests.get(hash);
    if (info) sendJson(res, 200, info);
    else sendJson(res, 404, { error: `No unfinished upload of ${hash}` });
  } else if (req.method === 'DELETE') {
    if (await target.ingests.remove(hash)) {
      res.statusCode = 204;
      res.end();
    } else sendJson(res, 404, { error: `No unfinished upload of ${hash}` });
  } else {
    res.setHeader('Allow', 'GET, DELETE');
    sendJson(res, 405, { error: 'Use GET or DELETE on an upload (PUT goes to /v1/cache/entries/<hash>)' });
  }
  return true;
}

async function fetchRoute(target: TransferTarget, cluster: FetchCluster | undefined, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const body = await jsonObject(req);
  if (typeof body.peer !== 'string' || body.peer.length === 0 || body.peer.length > 256) throw new HttpError(400, '"peer" must be the id of a member peer (as GET /v1/peers lists it)');
  const hashes = hashList(body, 'hashes');
  if (!cluster) throw new HttpError(409, 'This worker runs without the cluster (no secure link), so it cannot reach other members: run it with hearth worker, hearth serve or the app.');
  if (body.peer === cluster.identity.deviceId) throw new HttpError(400, `"${body.peer}" is this machine: fetch from another member.`);
  try {
    sendJson(res, 200, await target.fetch.fetch(cluster, body.peer, hashes));
  } catch (error) {
    const status = error instanceof HearthError ? PEER_REFUSALS.get(error.code) : undefined;
    if (status === undefined) throw error;
    sendJson(res, status, { error: (error as HearthError).message, code: (error as HearthError).code });
  }
}
