import type { PeerCoverage } from '../../shared/cache-progress.js';
import { hearthPaths } from '../../core/base/paths.js';
import { usageError, type Command } from '../command.js';
import { untilStopped } from '../long-running.js';
import { openCoordinator } from '../open-coordinator.js';
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
    const { coordinator, planned, close } = await openCoordinator(model, flags, hearthPaths().dataDir, out);
    try {
      // Coverage needs the tensors' hashes: made once per model file (a load needs them anyway). With --json the plan stays one object on stdout: progress only for people.
      const watch = await coordinator.coverage(planned, { onHashing: out.json ? undefined : (fraction) => out.progress('hashing tensors (once per model file)', fraction) });
      const coverage: PeerCoverage[] = watch ? await watch.refresh() : [];
      out.result({ plan: planned.plan, skipped: planned.skipped, coverage }, () => describePlan(planned, coverage));
      if (flags.watch && watch) {
        // Listening for Ctrl-C before the first event goes out: whoever reads it may stop us at once.
        const stopped = untilStopped();
        const stop = watch.subscribe((peers) => out.event({ event: 'coverage', peers }, peers.map((peer) => describeCoverage(peer)).join('\n')));
        out.note('Watching each peer\'s cache coverage; Ctrl-C to stop.');
        await stopped;
        stop();
      }
      return planned.plan.fits ? 0 : 1;
    } finally {
      await close();
    }
  },
};
