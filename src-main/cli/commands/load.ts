import { randomBytes } from 'node:crypto';
import type { LoadCacheProgress } from '../../shared/cache-progress.js';
import { hearthPaths } from '../../core/base/paths.js';
import type { RpcManifestUse } from '../../core/inference/rpc-manifest-file.js';
import { DEFAULT_API_PORT } from '../../core/inference/openai-gateway.js';
import type { Coordinator } from '../../core/coordinator/coordinator.js';
import { KeepWarm } from '../../core/coordinator/keep-warm.js';
import type { LoadRun } from '../../core/coordinator/load-run.js';
import type { MemberSource } from '../../core/coordinator/members.js';
import { isLoopback } from '../../core/net/host-check.js';
import { readPlanModel } from '../../core/planner/model-shape.js';
import { usageError, type Command } from '../command.js';
import { formatBytes } from '../format.js';
import type { CliOutput } from '../output.js';
import { portFlag, untilStopped } from '../long-running.js';
import { openCoordinator } from '../open-coordinator.js';
import { describePlan, PLAN_FLAGS, PLAN_USAGE } from '../plan-flags.js';

/** `hearth load <model.gguf>`: plan, load across the cluster and serve the OpenAI API until stopped. */
export const loadCommand: Command = {
  name: 'load',
  summary: 'load a model across the cluster and serve it (OpenAI API), until stopped',
  usage: `hearth load <model.gguf> ${PLAN_USAGE} [--host H] [--port N] [--api-key K] [--no-keep-warm] [--json]   (API default: 127.0.0.1:${DEFAULT_API_PORT}; a key is made when --host is not loopback; while it serves, members that join get the recent models' parts in the background unless --no-keep-warm)`,
  options: { ...PLAN_FLAGS, host: { type: 'string' }, port: { type: 'string' }, 'api-key': { type: 'string' }, 'no-keep-warm': { type: 'boolean' } },
  async run({ positionals, flags, out }) {
    const model = positionals[0];
    if (!model || positionals.length > 1) throw usageError('hearth load takes one model file: hearth load <model.gguf>');
    const host = typeof flags.host === 'string' ? flags.host : '127.0.0.1';
    const port = portFlag(flags.port, DEFAULT_API_PORT, '--port');
    const apiKey = typeof flags['api-key'] === 'string' ? flags['api-key'] : isLoopback(host) ? undefined : randomBytes(24).toString('base64url');
    // Check the file and the fit before anything listens or starts.
    const { dataDir } = hearthPaths();
    const { coordinator, members, planned, close } = await openCoordinator(model, flags, dataDir, out);
    let keepWarm: KeepWarm | null = null;
    try {
      const run = coordinator.load(planned, { host, port, apiKey });
      let ready = false;
      let cache: LoadCacheProgress[] = [];
      let step: { text: string; fraction: number | null } | null = null;
      const showLoading = () => step && out.progress(`loading: ${step.text}${describeLoadCache(cache)}`, step.fraction);
      run.on('hashing', (fraction) => out.progress('hashing tensors (once per model file)', fraction));
      run.on('cache', (peers) => {
        cache = peers;
        if (out.json) for (const peer of peers) out.event({ event: 'load-progress', ...peer });
        else showLoading();
      });
      run.on('status', (status) => {
        if (status.state === 'loading') {
          step = { text: status.progress.step, fraction: status.progress.fraction };
          showLoading();
        } else if (status.state === 'failed' && ready) {
          out.event({ event: 'failed', reason: status.reason, logTail: status.logTail }, `llama-server failed: ${status.reason}\n${status.logTail.join('\n')}`);
        }
      });
      const served = await run.result;
      ready = true;
      const { api } = served;
      out.event(
        { event: 'ready', api: api.baseUrl, apiKey: api.apiKey, model: api.modelId, plan: planned.plan, skipped: planned.skipped, hashes: served.hashes, cache: served.cache },
        [describePlan(planned), '', describeHashes(served.hashes), ...served.cache.map((peer) => `${peer.peer}: ${peer.entriesFromCache} of ${peer.entriesTotal} cached tensors from its cache, ${peer.entriesTransferred} sent (${formatBytes(peer.bytesTransferred)} over the link)`), `Serving ${api.modelId} at ${api.baseUrl} (OpenAI-compatible)${api.apiKey ? ` with API key ${api.apiKey}` : ''}. Talk to it: hearth chat`].join('\n'),
      );
      followHeals(run, out);
      if (!flags['no-keep-warm']) keepWarm = startKeepWarm(coordinator, members, dataDir, out);
      await untilStopped();
      out.note('Stopping…');
      return 0;
    } finally {
      await keepWarm?.stop();
      await close();
    }
  },
};

/** Say what happens while it serves: a lost peer, the model served again elsewhere, a peer back, the end of healing. */
function followHeals(run: LoadRun, out: CliOutput): void {
  run.on('healing', (loss) => out.event({ event: 'healing', ...loss }, `Lost: ${loss.reason}. Loading the model again over what is left of the cluster…`));
  run.on('healed', (planned, served) => {
    const peers = planned.plan.rpcPeers.map((id) => planned.members.find((member) => member.id === id)?.name ?? id);
    out.event({ event: 'healed', plan: planned.plan, cache: served.cache, api: served.api.baseUrl }, `Serving again ${peers.length > 0 ? `on ${peers.join(', ')} and this machine` : 'on this machine alone'} at ${served.api.baseUrl}.`);
  });
  run.on('back', (member) => out.event({ event: 'peer-back', peerId: member.id, peer: member.name }, `${member.name} is back. To spread the model over it again, stop this load (Ctrl-C) and run hearth load again: its cache still holds its part.`));
  run.on('gave-up', (reason) => out.event({ event: 'gave-up', reason }, `The model is down: ${reason}`));
}

/** Keep the recent models warm on the members while this command serves, telling each step. */
function startKeepWarm(coordinator: Coordinator, members: MemberSource, dataDir: string, out: CliOutput): KeepWarm {
  const keepWarm = new KeepWarm({ coordinator, dataDir, readModel: readPlanModel, onMembersChange: (listener) => members.onChange(listener) });
  let last = '';
  keepWarm.on('change', (view) => {
    const step = `${view.state}|${view.model}|${view.error}`;
    if (step === last) return;
    last = step;
    if (out.json) out.event({ event: 'keep-warm', ...view });
    else if (view.state === 'warming') out.note(`Keep-warm: warming ${view.model} on the members in the background.`);
    else if (view.state === 'failed') out.note(`Keep-warm: ${view.error}`);
  });
  keepWarm.setEnabled(true);
  return keepWarm;
}

/** " · worker-a 3/4 cached, 1 sent · …" for the loading line. */
function describeLoadCache(peers: readonly LoadCacheProgress[]): string {
  return peers.map((peer) => ` · ${peer.peer} ${peer.entriesFromCache}/${peer.entriesTotal} from cache, ${peer.entriesTransferred} sent`).join('');
}

function describeHashes(use: RpcManifestUse | null): string {
  if (!use) return 'Cached tensors: none sent over RPC.';
  if (use.refused) return `Cached tensors: the precomputed hashes were refused (${use.refused}), so llama.cpp hashed them itself.`;
  return `Cached tensors: ${use.fromManifest} took their precomputed hash, ${use.hashed} were hashed at load.`;
}
