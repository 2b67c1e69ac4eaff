// The worker's control API, one route per line: its method and path, what it takes and what it
// answers. The server decodes every request with these decoders and the one WorkerClient decodes
// every answer with them, so the two ends speak exactly this and nothing else. Path parameters
// (`:hash`) are fields of the input like the body's.
import { arrayOf, DecodeError, integer, object, optional, text, type Decoded, type Decoder } from '../base/decode.js';
import {
  cacheCap, cacheEntry, cacheSummary, deviceInfo, entryHash, fetchAnswer, fillAnswer, hashList, identity, ingestInfo, joined,
  modelDirList, modelId, pairingCode, peerAddress, peerView, revoked, wantedEntries, workerSettings, workerStatus,
} from './wire.js';

/** One JSON route. `status` is its answer's status when it succeeds. */
export interface JsonRoute<I, A> {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  input: Decoder<I>;
  answer: Decoder<A>;
  status: 200 | 201 | 204;
}

/** Nothing in, or nothing back (204). */
const none = object({}, 'nothing') as Decoder<Record<string, never>>;

function route<I, A>(method: JsonRoute<I, A>['method'], path: string, input: Decoder<I>, answer: Decoder<A>, status: JsonRoute<I, A>['status'] = 200): JsonRoute<I, A> {
  return { method, path, input, answer, status };
}

const hashes = object({ hashes: hashList });
const pinTtl = integer({ min: 1, max: 86_400, expects: 'a number of seconds from 1 to 86400' });

export const WORKER_ROUTES = {
  // What the worker is.
  status: route('GET', '/v1/status', none, object({ release: text({ max: 64 }), worker: workerStatus, cache: cacheSummary })),
  devices: route('GET', '/v1/devices', none, object({ devices: arrayOf(deviceInfo, { max: 64 }) })),
  /** The RPC server's last lines, across restarts: what a coordinator shows with a failure. */
  workerLog: route('GET', '/v1/worker/log', none, object({ lines: arrayOf(text({ max: 1 << 16, allowEmpty: true }), { max: 1000 }) })),
  // Its cache.
  cache: route('GET', '/v1/cache', none, cacheSummary),
  cacheEntries: route('GET', '/v1/cache/entries', none, object({ entries: arrayOf(cacheEntry, { max: 1_000_000 }) })),
  cacheHas: route('POST', '/v1/cache/has', hashes, object({ present: hashList, missing: hashList })),
  verifyCache: route('POST', '/v1/cache/verify', none, object({ checked: integer({ min: 0 }), damaged: arrayOf(object({ hash: entryHash, reason: text({ max: 4096 }) })) })),
  clearCache: route('POST', '/v1/cache/clear', object({ model: optional(modelId) }), object({ entries: integer({ min: 0 }), bytes: integer({ min: 0 }) })),
  removeEntry: route('DELETE', '/v1/cache/entries/:hash', object({ hash: entryHash }), none, 204),
  pin: route('POST', '/v1/cache/pins', object({ hashes: hashList, ttlSeconds: optional(pinTtl) }), object({ id: text({ max: 128 }) }), 201),
  unpin: route('DELETE', '/v1/cache/pins/:id', object({ id: text({ max: 128 }) }), none, 204),
  registerModel: route('POST', '/v1/models', object({ id: modelId, name: text({ max: 512, allowEmpty: true }), hashes: hashList }), none, 204),
  // Bringing entries in other than by a push.
  ingests: route('GET', '/v1/cache/ingests', none, object({ ingests: arrayOf(ingestInfo, { max: 1024 }) })),
  ingest: route('GET', '/v1/cache/ingests/:hash', object({ hash: entryHash }), ingestInfo),
  cancelIngest: route('DELETE', '/v1/cache/ingests/:hash', object({ hash: entryHash }), none, 204),
  // What to bring in comes with each entry's size and digest from the coordinator's manifest: bytes are admitted only if they match them.
  fill: route('POST', '/v1/cache/fill', object({ entries: wantedEntries }), fillAnswer),
  fetch: route('POST', '/v1/cache/fetch', object({ peer: text({ max: 256, expects: 'the id of a member peer (as GET /v1/peers lists it)' }), entries: wantedEntries }), fetchAnswer),
  // Settings.
  settings: route('GET', '/v1/settings', none, workerSettings),
  updateSettings: route('PATCH', '/v1/settings', object({ cacheMaxBytes: optional(cacheCap), modelDirs: optional(modelDirList) }), workerSettings),
  // The cluster.
  peers: route('GET', '/v1/peers', none, object({ peers: arrayOf(peerView, { max: 4096 }) })),
  addPeer: route('POST', '/v1/peers', object({ address: peerAddress }), peerView, 201),
  identity: route('GET', '/v1/identity', none, identity),
  openPairing: route('POST', '/v1/pairing', none, pairingCode),
  joinCluster: route('POST', '/v1/pairing/join', object({ code: text({ max: 64, expects: 'the pairing code shown by a member' }), peers: optional(arrayOf(peerAddress, { max: 64 })) }), joined),
  leaveCluster: route('POST', '/v1/pairing/leave', none, object({ fingerprint: text({ max: 64 }) })),
  revokeMember: route('POST', '/v1/pairing/revoke', object({ peer: text({ max: 256, expects: 'the id or name of the machine to revoke' }) }), revoked),
} as const;

/** An entry's bytes: `GET` reads verified bytes, `PUT` admits them (raw body, resumable with headers). Not JSON, so not in the table's decoders. */
export const ENTRY_BYTES_PATH = '/v1/cache/entries/:hash';
/** The header every `PUT` of an entry's bytes carries: the SHA-256 they must have (`sha256:<64 hex>`, from the pusher's hash manifest). */
export const ENTRY_DIGEST_HEADER = 'X-Hearth-Entry-Digest';

export type WorkerRoutes = typeof WORKER_ROUTES;
export type WorkerRouteName = keyof WorkerRoutes;
/** What a route takes (body fields and path parameters together). */
export type RouteInput<R extends WorkerRouteName> = Decoded<WorkerRoutes[R]['input']>;
/** What a route answers. */
export type RouteAnswer<R extends WorkerRouteName> = Decoded<WorkerRoutes[R]['answer']>;

/** The path of a route with its parameters filled in from `input` (each encoded), and the fields left for the body. */
export function fillPath(path: string, input: Record<string, unknown>): { path: string; rest: Record<string, unknown> } {
  const rest = { ...input };
  const filled = path.replace(/:(\w+)/g, (_, key: string) => {
    const value = rest[key];
    delete rest[key];
    return encodeURIComponent(String(value));
  });
  return { path: filled, rest };
}

/** The route a request names, with its path parameters; null when none matches. A parameter that is not valid URL encoding is a DecodeError. */
export function matchRoute(method: string, pathname: string): { name: WorkerRouteName; params: Record<string, string> } | null {
  for (const [name, spec] of Object.entries(WORKER_ROUTES) as [WorkerRouteName, JsonRoute<unknown, unknown>][]) {
    if (spec.method !== method) continue;
    const params = matchPath(spec.path, pathname);
    if (params) return { name, params };
  }
  return null;
}

/** The methods some route takes at `pathname` (for a 405's Allow header); empty when no route has that path. */
export function allowedMethods(pathname: string): string[] {
  const methods = Object.values(WORKER_ROUTES as Record<string, JsonRoute<unknown, unknown>>).filter((spec) => matchPath(spec.path, pathname)).map((spec) => spec.method);
  if (matchPath(ENTRY_BYTES_PATH, pathname)) methods.push('GET', 'PUT');
  return [...new Set(methods)].sort();
}

/** Path parameters if `pathname` fits `pattern`, else null; a parameter that is not valid URL encoding is a DecodeError. */
export function matchPath(pattern: string, pathname: string): Record<string, string> | null {
  const want = pattern.split('/');
  const got = pathname.split('/');
  if (want.length !== got.length) return null;
  const params: Record<string, string> = {};
  for (let index = 0; index < want.length; index++) {
    const part = want[index]!;
    if (part.startsWith(':')) {
      try {
        params[part.slice(1)] = decodeURIComponent(got[index]!);
      } catch {
        throw new DecodeError(part.slice(1), 'valid URL encoding', got[index]);
      }
    } else if (part !== got[index]) return null;
  }
  return params;
}
