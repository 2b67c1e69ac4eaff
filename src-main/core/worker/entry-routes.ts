// An entry's bytes over the control API: `GET` sends only verified bytes (a peer filling its cache
// from ours must get good data), `PUT` admits them verified against the hash, the size and the
// SHA-256 digest the pusher names from its manifest, plainly or as a resumable upload that continues
// where an interrupted one stopped.
import { createReadStream } from 'node:fs';
import type http from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { CacheStore } from '../cache/cache-store.js';
import { isEntryDigest } from '../cache/entry-digest.js';
import { entryPath } from '../cache/entry-files.js';
import { IngestConflictError, type IngestStore } from '../cache/ingest-store.js';
import { HttpError, sendJson } from '../net/http-replies.js';
import { ENTRY_DIGEST_HEADER } from '../worker-api/routes.js';

const RESUME_HEADERS = ['x-hearth-resumable', 'x-hearth-entry-size', 'x-hearth-offset'];

/** `GET` or `PUT` of an entry's bytes. */
export async function entryBytesRoute(cache: CacheStore, ingests: IngestStore, req: http.IncomingMessage, res: http.ServerResponse, hash: string): Promise<void> {
  if (req.method === 'GET') {
    const verified = await cache.verify(hash);
    if (!verified.ok) return sendJson(res, 404, { error: `No usable entry ${hash} (${verified.reason})` });
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': verified.size });
    // pipeline closes the file when the client goes away mid-transfer.
    await pipeline(createReadStream(entryPath(cache.dir, hash)), res).catch(() => res.destroy());
    return;
  }
  const digest = digestHeader(req);
  if (RESUME_HEADERS.some((name) => req.headers[name] !== undefined)) return resumablePut(ingests, req, res, hash, digest);
  const length = byteCountHeader(req, 'Content-Length');
  if (length === undefined) throw new HttpError(411, 'PUT of an entry needs a Content-Length: the entry\'s size in bytes');
  const { created } = await cache.put(hash, length, req, digest);
  sendJson(res, created ? 201 : 200, { hash, created });
}

/**
 * `PUT /v1/cache/entries/<hash>` with `X-Hearth-Resumable: 1`, `X-Hearth-Entry-Size: <total>`,
 * `X-Hearth-Offset: <n>` (default 0) and Content-Length = total - n: the bytes continue the
 * entry's ingest; on the last one it is verified and admitted (201), a wrong offset gets 409
 * with the ingest's offset, bytes that are not the entry 422 (and the ingest is deleted).
 */
async function resumablePut(ingests: IngestStore, req: http.IncomingMessage, res: http.ServerResponse, hash: string, digest: string): Promise<void> {
  if (req.headers['x-hearth-resumable'] !== '1') throw new HttpError(400, 'A resumable PUT needs X-Hearth-Resumable: 1 (with X-Hearth-Entry-Size and optionally X-Hearth-Offset)');
  const size = byteCountHeader(req, 'X-Hearth-Entry-Size');
  if (size === undefined) throw new HttpError(400, 'A resumable PUT needs X-Hearth-Entry-Size: the whole entry\'s size in bytes');
  const offset = byteCountHeader(req, 'X-Hearth-Offset') ?? 0;
  if (offset > size) throw new HttpError(400, `X-Hearth-Offset (${offset}) is past the end of the entry (${size} bytes)`);
  const length = byteCountHeader(req, 'Content-Length');
  if (length === undefined) throw new HttpError(411, 'A resumable PUT needs a Content-Length: the bytes from X-Hearth-Offset to the end');
  if (length !== size - offset) throw new HttpError(400, `Content-Length must be the bytes from X-Hearth-Offset to the end of the entry (${size} - ${offset} = ${size - offset}), got ${length}`);
  try {
    const outcome = await ingests.write(hash, size, offset, req, () => req.destroy(), digest);
    if (outcome.done) return sendJson(res, outcome.created ? 201 : 200, { hash, created: outcome.created });
    // The bytes stopped short (the client is usually gone by now): where to continue from.
    if (!res.destroyed) sendJson(res, 202, { hash, size, offset: outcome.offset });
  } catch (error) {
    if (!(error instanceof IngestConflictError)) throw error;
    sendJson(res, 409, { error: error.message, offset: error.offset });
  }
}

/**
 * The digest a PUT's bytes must match. Required: an entry's FNV-1a name alone is no check on bytes
 * from another machine, which can be made to match any name.
 */
function digestHeader(req: http.IncomingMessage): string {
  const value = req.headers[ENTRY_DIGEST_HEADER.toLowerCase()];
  if (value === undefined) throw new HttpError(400, `PUT of an entry needs ${ENTRY_DIGEST_HEADER}: sha256:<64 hex digits>, the SHA-256 of its bytes from the model's hash manifest (an older Hearth sends none: update it on the machine that pushes)`);
  if (typeof value !== 'string' || !isEntryDigest(value)) throw new HttpError(400, `${ENTRY_DIGEST_HEADER} must be sha256:<64 lowercase hex digits>, got ${JSON.stringify(String(value).slice(0, 80))}`);
  return value;
}

/** A header holding a whole number of bytes: undefined when absent, a 400 naming it when malformed. */
function byteCountHeader(req: http.IncomingMessage, name: string): number | undefined {
  const value = req.headers[name.toLowerCase()];
  if (value === undefined) return undefined;
  const count = typeof value === 'string' && /^\d{1,16}$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(count)) throw new HttpError(400, `${name} must be a whole number of bytes, got ${JSON.stringify(value)}`);
  return count;
}
