// While llama-server loads: each peer's cached tensors served from its own cache versus sent over
// the link, live. The worker counts hits and misses of the RPC connection open now
// (`currentLoad` in `GET /v1/cache`, from the RPC server's own cache events); the bytes sent are
// counted on this machine's end of the link, since the worker adds up the bytes it received only
// when the connection closes.
import type { LoadCacheProgress } from '../../shared/cache-progress.js';
import { isCachedTensor } from '../gguf/inspect-model.js';
import type { SplitPlan } from '../planner/plan-types.js';
import type { CachePeer } from './peer-shares.js';

/** A member as the watch needs it: its control API, and the bytes through its RPC link so far. */
export interface LoadWatchPeer extends CachePeer {
  rpcStats?: () => { bytesUp: number };
}

/** A running watch. */
export interface LoadCacheWatch {
  current(): LoadCacheProgress[];
  /** Ask once more (the load's last tensors), stop, and give the final figures. */
  stop(): Promise<LoadCacheProgress[]>;
}

/** How often the workers are asked during a load. */
const LOAD_POLL_MS = 1000;
/** A worker slower than this to answer keeps its last figures for this round. */
const ASK_TIMEOUT_MS = 5000;

/** Watch each member the plan gives cached tensors, until `stop()`; `onProgress` hears of each change. */
export function watchLoadCache(options: { plan: SplitPlan; members: readonly LoadWatchPeer[]; onProgress?: (progress: LoadCacheProgress) => void; intervalMs?: number }): LoadCacheWatch {
  const peers = options.members
    .map((peer) => ({
      peer,
      total: options.plan.devices.filter((device) => device.device.peerId === peer.id).flatMap((device) => device.tensors).filter(isCachedTensor).length,
      bytesAtStart: peer.rpcStats?.().bytesUp ?? 0,
      loadsAtStart: null as number | null,
      progress: null as LoadCacheProgress | null,
    }))
    .filter((entry) => entry.total > 0);
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;

  const ask = async (entry: (typeof peers)[number]): Promise<void> => {
    const summary = await entry.peer.worker.call('cache', {}, { timeoutMs: ASK_TIMEOUT_MS }).catch(() => null);
    if (!summary) return; // a slow or busy worker: keep the last figures
    entry.loadsAtStart ??= summary.loads ?? 0;
    // llama-server opens short probing connections first: only a connection that moved tensors is this load.
    const current = summary.currentLoad && summary.currentLoad.hits + summary.currentLoad.misses > 0 ? summary.currentLoad : null;
    const finished = (summary.loads ?? 0) > entry.loadsAtStart ? summary.lastLoad : null;
    const counts = current ?? finished ?? null;
    const next: LoadCacheProgress = {
      peerId: entry.peer.id,
      peer: entry.peer.name,
      entriesTotal: entry.total,
      entriesFromCache: counts?.hits ?? entry.progress?.entriesFromCache ?? 0,
      bytesFromCache: counts?.bytesFromCache ?? entry.progress?.bytesFromCache ?? 0,
      entriesTransferred: counts?.misses ?? entry.progress?.entriesTransferred ?? 0,
      bytesTransferred: (entry.peer.rpcStats?.().bytesUp ?? 0) - entry.bytesAtStart,
    };
    const before = entry.progress;
    entry.progress = next;
    if (!before || before.entriesFromCache !== next.entriesFromCache || before.entriesTransferred !== next.entriesTransferred || before.bytesTransferred !== next.bytesTransferred) {
      options.onProgress?.(next);
    }
  };
  const round = () => Promise.all(peers.map(ask));
  const schedule = (delayMs: number) => {
    timer = setTimeout(() => void round().finally(() => !stopped && schedule(options.intervalMs ?? LOAD_POLL_MS)), delayMs);
    timer.unref();
  };
  schedule(0);

  const current = () => peers.map((entry) => entry.progress).filter((progress): progress is LoadCacheProgress => progress !== null);
  return {
    current,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await round();
      return current();
    },
  };
}
