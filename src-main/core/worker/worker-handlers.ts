// What the control API does for each route of the worker contract (worker-api/routes.ts): every
// input arrives decoded, every answer leaves in the route's shape (the compiler checks both).
import type http from 'node:http';
import { HttpError } from '../net/http-replies.js';
import type { IngestStore } from '../cache/ingest-store.js';
import type { RouteAnswer, RouteInput, WorkerRouteName } from '../worker-api/routes.js';
import type { FetchResult, WantedEntry } from '../worker-api/wire.js';
import type { PeerView } from '../peers/cluster-node.js';
import type { PeerFetch, PeerControlEndpoints } from './cache-fetch.js';
import type { LocalFill } from './cache-fill.js';
import type { LocalModels } from './local-models.js';
import type { WorkerService } from './worker-service.js';
import { changeWorkerSettings, workerSettings, type SettingsTarget } from './worker-settings.js';

/** Resumable uploads, the model folders and fills from them, fetches from peers; runWorker makes one per worker. */
export interface TransferTarget {
  ingests: IngestStore;
  models: LocalModels;
  fill: LocalFill;
  fetch: PeerFetch;
}

/** The cluster side of a machine, when it runs one: peers and pairing. */
export interface ClusterControl extends PeerControlEndpoints {
  peers(): PeerView[];
  identity: { deviceId: string; deviceName: string };
  fingerprint: string;
  pairing: { open(): Promise<{ code: string; expiresAt: number }> };
  join(code: string, extra: { host: string; port: number }[]): Promise<{ memberName: string; fingerprint: string }>;
  addPeer(host: string, port: number): Promise<PeerView>;
  leave(): Promise<{ fingerprint: string }>;
  revoke(peerRef: string): Promise<{ fingerprint: string; updated: string[]; missed: string[] }>;
}

/** What the control API serves: the worker, facts about its tools, and the cluster once it runs. */
export interface ControlTarget {
  worker: WorkerService;
  release: string;
  transfer: TransferTarget;
  cluster?: ClusterControl;
}

type Handlers = { [R in WorkerRouteName]: (input: RouteInput<R>, target: ControlTarget, req: http.IncomingMessage) => Promise<RouteAnswer<R>> | RouteAnswer<R> };

/** Pins without a time to live last this long. */
const DEFAULT_PIN_SECONDS = 600;

/** One handler per route. */
export const WORKER_HANDLERS: Handlers = {
  status: (_, { worker, release }) => ({ release, worker: worker.status, cache: worker.cache.summary() }),
  devices: async (_, { worker }) => ({ devices: await worker.refreshDevices() }),
  workerLog: (_, { worker }) => ({ lines: worker.logTail() }),
  cache: (_, { worker }) => worker.cache.summary(),
  cacheEntries: (_, { worker }) => ({ entries: worker.cache.entries() }),
  cacheHas: ({ hashes }, { worker }) => ({ present: hashes.filter((hash) => worker.cache.has(hash)), missing: hashes.filter((hash) => !worker.cache.has(hash)) }),
  verifyCache: (_, { worker }) => worker.cache.verifyAll(),
  clearCache: ({ model }, { worker }) => worker.cache.clear(model),
  removeEntry: async ({ hash }, { worker }) => {
    if (!worker.cache.has(hash)) throw new HttpError(404, `No entry ${hash}`);
    if (worker.cache.isHeld(hash)) throw new HttpError(409, `Entry ${hash} is held by a load (pinned or in use): it cannot be removed now`);
    await worker.cache.remove(hash);
    return {};
  },
  pin: ({ hashes, ttlSeconds }, { worker }) => ({ id: worker.cache.pin(hashes, (ttlSeconds ?? DEFAULT_PIN_SECONDS) * 1000) }),
  unpin: ({ id }, { worker }) => {
    if (!worker.cache.unpin(id)) throw new HttpError(404, `No pin ${id}`);
    return {};
  },
  registerModel: ({ id, name, hashes }, { worker }) => {
    worker.cache.registerModel(id, name, hashes);
    return {};
  },
  ingests: (_, { transfer }) => ({ ingests: transfer.ingests.list() }),
  ingest: ({ hash }, { transfer }) => {
    const info = transfer.ingests.get(hash);
    if (!info) throw new HttpError(404, `No unfinished upload of ${hash}`);
    return info;
  },
  cancelIngest: async ({ hash }, { transfer }) => {
    if (!(await transfer.ingests.remove(hash))) throw new HttpError(404, `No unfinished upload of ${hash}`);
    return {};
  },
  fill: ({ entries }, { transfer }) => transfer.fill.fill(entries),
  fetch: ({ peer, entries }, target) => fetchFromMember(target, peer, entries),
  settings: (_, target) => workerSettings(settingsOf(target)),
  updateSettings: async (change, target) => {
    if (change.cacheMaxBytes === undefined && change.modelDirs === undefined) throw new HttpError(400, 'Nothing to change: send {"cacheMaxBytes": bytes | null} and/or {"modelDirs": ["/absolute/folder", …]}');
    await changeWorkerSettings(settingsOf(target), change);
    return workerSettings(settingsOf(target));
  },
  peers: (_, target) => ({ peers: cluster(target).peers() }),
  addPeer: ({ address }, target) => {
    const { host, port } = hostPort(address);
    return cluster(target).addPeer(host, port);
  },
  identity: (_, target) => ({ ...cluster(target).identity, fingerprint: cluster(target).fingerprint }),
  openPairing: (_, target) => cluster(target).pairing.open(),
  joinCluster: ({ code, peers }, target) => cluster(target).join(code, (peers ?? []).map(hostPort)),
  leaveCluster: (_, target) => cluster(target).leave(),
  revokeMember: ({ peer }, target) => cluster(target).revoke(peer),
};

function cluster(target: ControlTarget): ClusterControl {
  if (!target.cluster) throw new HttpError(404, 'This worker runs without the cluster (no secure link).');
  return target.cluster;
}

function settingsOf(target: ControlTarget): SettingsTarget {
  return { cache: target.worker.cache, models: target.transfer.models };
}

function hostPort(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  const port = Number(address.slice(at + 1));
  if (!(port >= 1 && port <= 65535)) throw new HttpError(400, `"${address}": the port must be from 1 to 65535`);
  return { host: address.slice(0, at), port };
}

// Why a member cannot be fetched from, as the cluster says it, and the status that fits. Never
// 404: clients read a 404 from this route as "a worker too old to fetch" and push instead.
const PEER_REFUSALS = new Map([['unknown-peer', 409], ['not-a-member', 403], ['incompatible-peer', 409]]);

async function fetchFromMember(target: ControlTarget, peer: string, entries: WantedEntry[]): Promise<FetchResult> {
  const { cluster: node } = target;
  if (!node) throw new HttpError(409, 'This worker runs without the cluster (no secure link), so it cannot reach other members: run it with hearth worker, hearth serve or the app.');
  if (peer === node.identity.deviceId) throw new HttpError(400, `"${peer}" is this machine: fetch from another member.`);
  try {
    return await target.transfer.fetch.fetch(node, peer, entries);
  } catch (error) {
    const status = PEER_REFUSALS.get((error as { code?: string }).code ?? '');
    if (status === undefined) throw error;
    throw new HttpError(status, (error as Error).message);
  }
}
