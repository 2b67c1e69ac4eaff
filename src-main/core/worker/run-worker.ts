import { CacheStore } from '../cache/cache-store.js';
import { IngestStore } from '../cache/ingest-store.js';
import type { LlamaTools } from '../native/tools.js';
import { hearthPaths } from '../base/paths.js';
import { PeerFetch } from './cache-fetch.js';
import { LocalFill } from './cache-fill.js';
import { startControlApi, type ClusterControl, type ControlApi, type ControlTarget, type TransferTarget } from './control-api.js';
import { LocalModels } from './local-models.js';
import { claimCacheRoot } from './worker-claim.js';
import { WorkerService } from './worker-service.js';

/** ggml-rpc-server's own default port, so a plain `llama-server --rpc host` finds a Hearth worker. */
export const DEFAULT_RPC_PORT = 50052;
/** The worker's control API port when none is given. */
export const DEFAULT_CONTROL_PORT = 7435;

export interface RunWorkerOptions {
  tools: LlamaTools;
  /** Cache root (entries in `<root>/rpc/`). */
  cacheRoot: string;
  /** A new cap to set and keep; undefined leaves the folder's cap as it is. */
  capBytes?: number | null;
  /** Folders of GGUF files to fill the cache from, to set and keep (absolute, existing); undefined leaves the folder's as they are. */
  modelDirs?: string[];
  /** Hearth's data folder, where model manifests are kept (default: `hearthPaths().dataDir`). */
  dataDir?: string;
  /** Loopback: peers come through the secure link. */
  host: string;
  /** Where the RPC server itself listens, when not `host` ("open LAN" mode exposes it). */
  rpcHost?: string;
  rpcPort: number;
  controlPort: number;
  /** Supervisor timing (tests shorten it). */
  initialBackoffMs?: number;
}

/** A worker with its cache and control API, as `hearth worker`, `hearth serve` and the app run it. */
export interface RunningWorker {
  service: WorkerService;
  control: ControlApi;
  /** Resumable uploads, model folders, fills and fetches. */
  transfer: TransferTarget;
  /** Serve the cluster's routes (peers, pairing) on the control API once the cluster runs. */
  attachCluster(cluster: ClusterControl): void;
  stop(): Promise<void>;
}

/** Open the cache, start the supervised RPC server and the control API, and claim the cache folder. */
export async function runWorker(options: RunWorkerOptions): Promise<RunningWorker> {
  // Claim the folder first: opening the cache sweeps temporary files another worker may be writing.
  const claim = await claimCacheRoot(options.cacheRoot, { pid: process.pid, controlUrl: '', rpcEndpoint: '' });
  const undo: (() => Promise<void>)[] = [() => claim.release()];
  try {
    const cache = await CacheStore.open({ root: options.cacheRoot });
    if (options.capBytes !== undefined) await cache.setCap(options.capBytes);
    // Opened after the claim, like the cache: it cuts unfinished uploads back to their checkpoints.
    const ingests = await IngestStore.open({ cache });
    undo.unshift(() => ingests.close());
    const models = await LocalModels.open(options.cacheRoot, options.dataDir ?? hearthPaths().dataDir, options.modelDirs);
    const service = await WorkerService.start({
      tools: options.tools,
      cache,
      host: options.rpcHost ?? options.host,
      port: options.rpcPort,
      initialBackoffMs: options.initialBackoffMs,
    });
    undo.unshift(() => service.stop());
    const transfer = { ingests, models, fill: new LocalFill(cache, models), fetch: new PeerFetch(cache) };
    const target: ControlTarget = { worker: service, release: options.tools.release, transfer };
    const control = await startControlApi(target, options.host, options.controlPort);
    undo.unshift(() => control.close());
    await claim.update({ pid: process.pid, controlUrl: control.url, rpcEndpoint: service.status.endpoint });
    return {
      service,
      control,
      transfer,
      attachCluster: (cluster) => void (target.cluster = cluster),
      stop: () => runAll(undo),
    };
  } catch (error) {
    await runAll(undo);
    throw error;
  }
}

async function runAll(steps: (() => Promise<void>)[]): Promise<void> {
  for (const step of steps) await step().catch(() => undefined);
}
