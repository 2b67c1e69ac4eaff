import { randomBytes } from 'node:crypto';
import type { LoadCacheProgress } from '../../shared/cache-progress.js';
import { isLoopback } from '../../core/net/host-check.js';
import { writeApiRecord } from '../../core/inference/api-record.js';
import { loadPlan } from '../../core/inference/load-model.js';
import { ModelSlot, type SlotStatus } from '../../core/inference/model-slot.js';
import { parseRpcManifestUse, type RpcManifestUse } from '../../core/inference/rpc-manifest-file.js';
import { DEFAULT_API_PORT, startOpenAiGateway, type OpenAiGateway } from '../../core/inference/openai-gateway.js';
import { assertPlanFits } from '../../core/planner/plan-split.js';
import { hearthPaths } from '../../core/base/paths.js';
import { watchLoadCache } from '../../core/warmup/load-cache-watch.js';
import { usageError, type Command } from '../command.js';
import { formatBytes } from '../format.js';
import { portFlag, untilStopped } from '../long-running.js';
import { openClusterPlan } from '../cluster-plan.js';
import { describePlan, PLAN_FLAGS, PLAN_USAGE } from '../plan-flags.js';

/** `hearth load <model.gguf>`: plan, load across the cluster and serve the OpenAI API until stopped. */
export const loadCommand: Command = {
  name: 'load',
  summary: 'load a model across the cluster and serve it (OpenAI API), until stopped',
  usage: `hearth load <model.gguf> ${PLAN_USAGE} [--host H] [--port N] [--api-key K] [--json]   (API default: 127.0.0.1:${DEFAULT_API_PORT}; a key is made when --host is not loopback)`,
  options: { ...PLAN_FLAGS, host: { type: 'string' }, port: { type: 'string' }, 'api-key': { type: 'string' } },
  async run({ positionals, flags, out }) {
    const model = positionals[0];
    if (!model || positionals.length > 1) throw usageError('hearth load takes one model file: hearth load <model.gguf>');
    const host = typeof flags.host === 'string' ? flags.host : '127.0.0.1';
    const port = portFlag(flags.port, DEFAULT_API_PORT, '--port');
    const apiKey = typeof flags['api-key'] === 'string' ? flags['api-key'] : isLoopback(host) ? undefined : randomBytes(24).toString('base64url');
    const { dataDir } = hearthPaths();
    // Check the file and the fit before anything listens or starts.
    const { tools, links, plan } = await openClusterPlan(model, flags, dataDir, out);
    // The RPC client's word on the precomputed hashes (patch 0003), printed before the model serves.
    let hashes: RpcManifestUse | null = null;
    const slot = new ModelSlot({ tools, onLine: (line) => void (hashes = parseRpcManifestUse(line) ?? hashes) });
    let gateway: OpenAiGateway | undefined;
    let cache: LoadCacheProgress[];
    try {
      assertPlanFits(plan);
      gateway = await startOpenAiGateway({ slot, host, port, apiKey });
      // Each peer's tensors from its own cache versus sent over the link, live while llama-server loads.
      const cacheWatch = watchLoadCache({ plan, members: links.members, onProgress: (progress) => {
        if (out.json) out.event({ event: 'load-progress', ...progress });
        else if (slot.status.state === 'loading') out.progress(`loading: ${slot.status.progress.step}${describeLoadCache(cacheWatch.current())}`, slot.status.progress.fraction);
      } });
      slot.on('status', (status: SlotStatus) => {
        if (status.state === 'loading') out.progress(`loading: ${status.progress.step}${describeLoadCache(cacheWatch.current())}`, status.progress.fraction);
      });
      try {
        await loadPlan({
          plan, members: links.members, slot, dataDir,
          onHashing: ({ bytesDone, bytesTotal }) => out.progress('hashing tensors (once per model file)', bytesTotal > 0 ? bytesDone / bytesTotal : null),
        });
      } finally {
        cache = await cacheWatch.stop();
      }
      const modelId = slot.status.state === 'ready' ? slot.status.modelId : model;
      const withdraw = await writeApiRecord(dataDir, { pid: process.pid, baseUrl: gateway.baseUrl, apiKey: apiKey ?? null, modelId });
      out.event(
        { event: 'ready', api: gateway.baseUrl, apiKey: apiKey ?? null, model: modelId, plan, skipped: links.skipped, hashes, cache },
        [describePlan(plan, links.skipped), '', describeHashes(hashes), ...cache.map((peer) => `${peer.peer}: ${peer.entriesFromCache} of ${peer.entriesTotal} cached tensors from its cache, ${peer.entriesTransferred} sent (${formatBytes(peer.bytesTransferred)} over the link)`), `Serving ${modelId} at ${gateway.baseUrl} (OpenAI-compatible)${apiKey ? ` with API key ${apiKey}` : ''}. Talk to it: hearth chat`].join('\n'),
      );
      slot.on('status', (status: SlotStatus) => {
        if (status.state === 'failed') out.event({ event: 'failed', reason: status.reason, logTail: status.logTail }, `llama-server failed: ${status.reason}\n${status.logTail.join('\n')}`);
      });
      await untilStopped();
      out.note('Stopping…');
      await withdraw();
    } finally {
      await slot.unload();
      await gateway?.close();
      await links.close();
    }
    return 0;
  },
};

/** " · worker-a 3/4 cached, 1 sent · …" for the loading line. */
function describeLoadCache(peers: readonly LoadCacheProgress[]): string {
  return peers.map((peer) => ` · ${peer.peer} ${peer.entriesFromCache}/${peer.entriesTotal} from cache, ${peer.entriesTransferred} sent`).join('');
}

function describeHashes(use: RpcManifestUse | null): string {
  if (!use) return 'Cached tensors: none sent over RPC.';
  if (use.refused) return `Cached tensors: the precomputed hashes were refused (${use.refused}), so llama.cpp hashed them itself.`;
  return `Cached tensors: ${use.fromManifest} took their precomputed hash, ${use.hashed} were hashed at load.`;
}
