// A load of a plan, then serving it: the model's hashes (once per file), each peer's RPC endpoint
// through its link, the announcement and the RPC client's hash manifest (both at once), then
// llama-server with the plan's split, followed live (its progress, each peer's cache), and the
// API published once it serves. The run owns what it opened: stopping it unloads the model,
// withdraws the API record and closes the API endpoint if it opened one.
import path from 'node:path';
import type { ApiAccess } from '../../shared/api-access.js';
import type { LoadCacheProgress } from '../../shared/cache-progress.js';
import type { HashManifest } from '../gguf/manifest/hash-manifest.js';
import { writeApiRecord } from '../inference/api-record.js';
import type { SlotStatus } from '../inference/model-slot.js';
import { parseRpcManifestUse, rpcManifestEnv, writeRpcManifest, type RpcManifestUse } from '../inference/rpc-manifest-file.js';
import type { LlamaTools } from '../native/tools.js';
import { llamaServerArgs } from '../planner/plan-split.js';
import { watchLoadCache } from '../warmup/load-cache-watch.js';
import { announceLoad, cacheModelId } from './announce.js';
import { openApiEndpoint, type ApiEndpoint, type ApiListen } from './api-endpoint.js';
import type { PeerLink } from './peer-links.js';
import type { Planned } from './planned.js';
import { Run } from './run.js';

/** A model being served. */
export interface Served {
  api: ApiAccess;
  /** The RPC client's word on the precomputed hashes (patch 0003); null when no tensor went over RPC. */
  hashes: RpcManifestUse | null;
  /** Each peer's cached tensors: from its own cache versus sent over the link, at the end of the load. */
  cache: LoadCacheProgress[];
}

/** What a load tells as it goes. */
export type LoadEvents = {
  /** Hashing the model's tensors (once per file): 0..1. */
  hashing: [number];
  /** The slot's every change while this run holds it: loading with progress, ready, failed (a crash after ready too), unloading. */
  status: [SlotStatus];
  /** Each peer's cache use so far. */
  cache: [LoadCacheProgress[]];
};

/** A load: `result` resolves once it serves. */
export interface LoadRun extends Run<LoadEvents, Served> {
  /** Stop loading, or stop serving: what the run opened is closed. */
  stop(): Promise<void>;
}

/** What a load needs from its coordinator. */
export interface LoadContext {
  tools: LlamaTools;
  dataDir: string;
  links(planned: Planned): PeerLink[];
  manifest(modelPath: string, onHashing: (fraction: number) => void, signal: AbortSignal): Promise<HashManifest>;
}

/** Where to serve: an endpoint the caller keeps (the app's), or where to open one for this load alone. */
export type LoadApi = ApiEndpoint | ApiListen;

/** Start loading `planned` (a plan that fits: the caller checked). */
export function startLoad(context: LoadContext, planned: Planned, api: LoadApi): LoadRun {
  const opened: { endpoint: ApiEndpoint | null; owned: boolean; withdraw: (() => Promise<void>) | null; unlisten: () => void } = { endpoint: null, owned: false, withdraw: null, unlisten: () => undefined };
  const run = new Run<LoadEvents, Served>(async (self, signal) => {
    const { plan } = planned;
    const endpoint = 'slot' in api ? api : await openApiEndpoint(context.tools, api);
    Object.assign(opened, { endpoint, owned: endpoint !== api });
    const onStatus = (status: SlotStatus) => self.emit('status', status);
    endpoint.slot.on('status', onStatus);
    opened.unlisten = () => endpoint.slot.off('status', onStatus);
    const manifest = await context.manifest(plan.model.path, (fraction) => self.emit('hashing', fraction), signal);
    signal.throwIfAborted();
    const links = context.links(planned);
    const endpoints = new Map(await Promise.all(plan.rpcPeers.map(async (id) => [id, await links.find((link) => link.id === id)!.rpcEndpoint()] as const)));
    // One file per model content, rewritten atomically at each load: a bounded set, never stale.
    const manifestFile = path.join(context.dataDir, 'manifests', 'rpc', `${cacheModelId(manifest)}.tsv`);
    await Promise.all([writeRpcManifest(manifestFile, manifest.entries), announceLoad(plan, manifest, links)]);
    signal.throwIfAborted();
    const watch = watchLoadCache({ plan, members: links, onProgress: () => self.emit('cache', watch.current()) });
    let hashes: RpcManifestUse | null = null;
    let cache: LoadCacheProgress[];
    try {
      await endpoint.slot.load({
        model: plan.model.path,
        args: llamaServerArgs(plan, (id) => endpoints.get(id)!),
        env: rpcManifestEnv(manifestFile),
        onLine: (line) => void (hashes = parseRpcManifestUse(line) ?? hashes),
      });
    } finally {
      cache = await watch.stop();
    }
    // Stopped between its last check and llama-server starting: what started goes too.
    if (signal.aborted) throw signal.reason;
    const status = endpoint.slot.status;
    const modelId = status.state === 'ready' ? status.modelId : path.basename(plan.model.path);
    opened.withdraw = await writeApiRecord(context.dataDir, { pid: process.pid, baseUrl: endpoint.baseUrl, apiKey: endpoint.apiKey, modelId });
    return { api: { baseUrl: endpoint.baseUrl, apiKey: endpoint.apiKey, modelId }, hashes, cache };
  });
  let stopping: Promise<void> | null = null;
  return Object.assign(run, {
    stop: () => (stopping ??= (async () => {
      run.cancel();
      // Unloading also ends a llama-server still loading; the second one catches a load that slipped past the run's last check.
      await opened.endpoint?.slot.unload();
      await run.result.catch(() => undefined);
      await opened.endpoint?.slot.unload();
      opened.unlisten();
      await opened.withdraw?.();
      if (opened.owned) await opened.endpoint?.close();
    })()),
  });
}
