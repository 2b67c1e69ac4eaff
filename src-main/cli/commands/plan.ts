import { ensureTools } from '../../core/native/tools.js';
import { openMemberLinks } from '../../core/inference/member-links.js';
import { hearthPaths } from '../../core/paths.js';
import { usageError, type Command } from '../command.js';
import { describePlan, manualPeers, PLAN_FLAGS, PLAN_USAGE, planOptions, waitMs } from '../plan-flags.js';

/** `hearth plan <model.gguf>`: how the model would split across this machine and the member peers, and whether it fits. */
export const planCommand: Command = {
  name: 'plan',
  summary: 'how a model would split across the cluster, and whether it fits (loads nothing)',
  usage: `hearth plan <model.gguf> ${PLAN_USAGE} [--json]`,
  options: PLAN_FLAGS,
  async run({ positionals, flags, out }) {
    const model = positionals[0];
    if (!model || positionals.length > 1) throw usageError('hearth plan takes one model file: hearth plan <model.gguf>');
    const options = planOptions(flags);
    // Loaded here: node-llama-cpp's module graph costs every other command ~250 ms.
    const { planModel } = await import('../../core/inference/load-model.js');
    const tools = await ensureTools({ onProgress: ({ step, fraction }) => out.progress(`building llama.cpp tools: ${step}`, fraction) });
    const links = await openMemberLinks({ dataDir: hearthPaths().dataDir, tools, manual: manualPeers(flags), discovery: !flags['no-discovery'], waitMs: waitMs(flags) });
    try {
      const plan = await planModel({ model, tools, members: links.members, options });
      out.result({ plan, skipped: links.skipped }, () => describePlan(plan, links.skipped));
      return plan.fits ? 0 : 1;
    } finally {
      await links.close();
    }
  },
};
