import type { PeerCoverage } from '../../shared/cache-progress.js';
import { loadOrMakeManifest } from '../../core/gguf/manifest/load-or-make-manifest.js';
import { hearthPaths } from '../../core/base/paths.js';
import { measureCoverage } from '../../core/warmup/coverage.js';
import { CoverageWatch } from '../../core/warmup/coverage-watch.js';
import { peerShares, planGivesPeersCachedTensors } from '../../core/warmup/peer-shares.js';
import { usageError, type Command } from '../command.js';
import { untilStopped } from '../long-running.js';
import { openClusterPlan } from '../cluster-plan.js';
import { describeCoverage, describePlan, PLAN_FLAGS, PLAN_USAGE } from '../plan-flags.js';

/** `hearth plan <model.gguf>`: how the model would split across this machine and the member peers, whether it fits, and how warm each peer's cache is for it. */
export const planCommand: Command = {
  name: 'plan',
  summary: 'how a model would split across the cluster, whether it fits, and how much of it each peer has cached (loads nothing)',
  usage: `hearth plan <model.gguf> ${PLAN_USAGE} [--watch] [--json]   (--watch: keep showing each peer's cache coverage as it changes, until Ctrl-C)`,
  options: { ...PLAN_FLAGS, watch: { type: 'boolean' } },
  async run({ positionals, flags, out }) {
    const model = positionals[0];
    if (!model || positionals.length > 1) throw usageError('hearth plan takes one model file: hearth plan <model.gguf>');
    const { dataDir } = hearthPaths();
    const { links, plan } = await openClusterPlan(model, flags, dataDir, out);
    try {
      // Coverage needs the tensors' hashes: made once per model file (a load needs them anyway), and only when a peer gets a cached tensor.
      const manifest = planGivesPeersCachedTensors(plan)
        ? await loadOrMakeManifest({
          model: plan.model.path,
          dataDir,
          // With --json the plan stays one object on stdout: progress only for people.
          onProgress: out.json ? undefined : ({ bytesDone, bytesTotal }) => out.progress('hashing tensors (once per model file)', bytesTotal > 0 ? bytesDone / bytesTotal : null),
        })
        : null;
      const shares = manifest ? peerShares(plan, manifest, links.members) : [];
      const coverage: PeerCoverage[] = await measureCoverage(shares);
      out.result({ plan, skipped: links.skipped, coverage }, () => describePlan(plan, links.skipped, coverage));
      if (flags.watch && shares.length > 0) {
        const watch = new CoverageWatch(shares);
        const stop = watch.subscribe((peers) => out.event({ event: 'coverage', peers }, peers.map((peer) => describeCoverage(peer)).join('\n')));
        out.note('Watching each peer\'s cache coverage; Ctrl-C to stop.');
        await untilStopped();
        stop();
      }
      return plan.fits ? 0 : 1;
    } finally {
      await links.close();
    }
  },
};
