import { CacheStore, type CacheEntry, type CacheSummary } from '../../core/cache/cache-store.js';
import type { KeepWarmView } from '../../shared/keep-warm.js';
import { hearthPaths } from '../../core/base/paths.js';
import { readKeepWarm } from '../../core/coordinator/keep-warm.js';
import { claimCacheRoot } from '../../core/worker/worker-claim.js';
import { usageError, type Command } from '../command.js';
import { formatBytes, table } from '../format.js';
import type { WorkerClient } from '../../core/worker-api/worker-client.js';
import { cacheRootFlag, localWorker } from '../local-worker.js';

/** The cache operations, done either by the running worker (through its control API) or on the folder. */
interface CacheAccess {
  summary(): Promise<CacheSummary>;
  entries(): Promise<CacheEntry[]>;
  verify(): Promise<{ checked: number; damaged: { hash: string; reason: string }[] }>;
  clear(model?: string): Promise<{ entries: number; bytes: number }>;
  close(): Promise<void>;
}

/** `hearth cache ls | verify | clear [MODEL]`: look at and tidy a worker's tensor cache. */
export const cacheCommand: Command = {
  name: 'cache',
  summary: 'list, verify or clear the tensor cache (all of it, or one model\'s entries)',
  usage: 'hearth cache ls | verify | clear [MODEL] [--cache-dir D] [--json]',
  options: { 'cache-dir': { type: 'string' } },
  async run({ positionals, flags, out }) {
    const [action, model, ...extra] = positionals;
    if (!action || !['ls', 'verify', 'clear'].includes(action) || extra.length > 0 || (model !== undefined && action !== 'clear')) {
      throw usageError(`Usage: ${cacheCommand.usage}`);
    }
    const root = cacheRootFlag(flags['cache-dir']);
    const cache = await openCache(root);
    try {
      if (action === 'ls') {
        const [summary, entries, keepWarm] = [await cache.summary(), await cache.entries(), await readKeepWarm(hearthPaths().dataDir)];
        out.result({ ...summary, entryList: entries, keepWarm }, () => [describeCache(summary, entries), describeKeepWarm(keepWarm)].filter(Boolean).join('\n\n'));
      } else if (action === 'verify') {
        const result = await cache.verify();
        out.result(result, () =>
          result.damaged.length === 0
            ? `All ${result.checked} entries verified.`
            : `${result.checked} entries checked; ${result.damaged.length} damaged and removed (they will be sent again at the next load):\n${result.damaged.map((d) => `  ${d.hash}: ${d.reason}`).join('\n')}`,
        );
      } else {
        const freed = await cache.clear(model);
        out.result(freed, () => `Removed ${freed.entries} entries, ${formatBytes(freed.bytes)}${model ? ` of model ${model}` : ''}.`);
      }
    } finally {
      await cache.close();
    }
    return 0;
  },
};

async function openCache(root: string): Promise<CacheAccess> {
  const worker = await localWorker(root);
  if (worker) return viaWorker(worker);
  // No worker serves the folder: work on it directly, holding it so none starts meanwhile.
  const claim = await claimCacheRoot(root, { pid: process.pid, controlUrl: '', rpcEndpoint: '' });
  // Looking must not change anything: no eviction on open.
  const store = await CacheStore.open({ root, evict: false });
  return {
    summary: async () => store.summary(),
    entries: async () => store.entries(),
    verify: () => store.verifyAll(),
    clear: (model) => store.clear(model),
    close: async () => {
      await store.flush();
      await claim.release();
    },
  };
}

function viaWorker(worker: WorkerClient): CacheAccess {
  return {
    summary: () => worker.call('cache', {}),
    entries: async () => (await worker.call('cacheEntries', {})).entries,
    verify: () => worker.call('verifyCache', {}),
    clear: (model) => worker.call('clearCache', model === undefined ? {} : { model }),
    close: async () => {},
  };
}

/** This machine's keep-warm, as its running Hearth last said (what it pushes to the members' caches). */
function describeKeepWarm(view: KeepWarmView | null): string {
  if (!view) return '';
  const peers = view.peers.map((peer) => `${peer.peer} ${peer.bytesTotal > 0 ? Math.floor((peer.bytesDone / peer.bytesTotal) * 100) : 100}%`).join(', ');
  const pace = `${formatBytes(view.maxBytesPerSecond)}/s per member`;
  switch (view.state) {
    case 'warming': return `Keep-warm: warming ${view.model} on the members (${peers || 'starting'}), at most ${pace}.`;
    case 'waiting': return 'Keep-warm: waiting for a load or pre-warm to end.';
    case 'idle': return 'Keep-warm: the models loaded lately are warm on the members.';
    case 'failed': return `Keep-warm: could not finish: ${view.error}`;
    case 'off': return 'Keep-warm: off.';
  }
}

function describeCache(summary: CacheSummary, entries: CacheEntry[]): string {
  const head = table([
    ['Cache', summary.dir],
    ['Used', `${formatBytes(summary.usedBytes)} of ${formatBytes(summary.capBytes)}${summary.capIsDefault ? ' (default cap: a quarter of the disk)' : ''}, ${summary.entries} entries`],
    ['Lifetime', `${summary.lifetime.hits} hits, ${summary.lifetime.misses} misses, ${formatBytes(summary.lifetime.bytesFromCache)} served from cache, ${formatBytes(summary.lifetime.bytesReceived)} received`],
  ]);
  const models = summary.models.map((m) => `  ${m.id}  ${m.name}: ${m.entries} entries, ${formatBytes(m.bytes)}`);
  const rows = entries.map((e) => `  ${e.hash}  ${formatBytes(e.size).padStart(10)}  ${new Date(e.lastUsedMs).toISOString()}${e.pinned ? '  pinned' : ''}${e.models.length ? `  ${e.models.join(', ')}` : ''}`);
  return [head, models.length ? `\nModels:\n${models.join('\n')}` : '', rows.length ? `\nEntries (most recently used first):\n${rows.join('\n')}` : ''].join('');
}
