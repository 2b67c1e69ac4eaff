// What `hearth plan`, `warm` and `load` open with: the llama.cpp tools, links to the member
// peers, and the plan. ggml's probe of this machine's devices (a child process that loads every
// backend module: a few hundred milliseconds) and the read of the model's header run while the
// links open and mDNS listens, not after.
import { planModel } from '../core/inference/load-model.js';
import { openMemberLinks, type MemberLinks } from '../core/inference/member-links.js';
import { ensureTools, type LlamaTools } from '../core/native/tools.js';
import { readPlanModel } from '../core/planner/model-shape.js';
import type { SplitPlan } from '../core/planner/plan-types.js';
import { listDevices } from '../core/native/devices.js';
import type { FlagValue } from './command.js';
import type { CliOutput } from './output.js';
import { manualPeers, planOptions, waitMs } from './plan-flags.js';

/** The tools, the open member links (the caller closes them) and the plan over them. */
export interface ClusterPlan {
  tools: LlamaTools;
  links: MemberLinks;
  plan: SplitPlan;
}

/** Plan `model` across this machine and the member peers the flags name or mDNS finds; nothing stays open on failure. */
export async function openClusterPlan(model: string, flags: Record<string, FlagValue>, dataDir: string, out: CliOutput): Promise<ClusterPlan> {
  // The flags first: a usage error comes before anything starts.
  const options = planOptions(flags);
  const linkOptions = { dataDir, manual: manualPeers(flags), discovery: !flags['no-discovery'], waitMs: waitMs(flags) };
  const tools = await ensureTools({ onProgress: ({ step, fraction }) => out.progress(`building llama.cpp tools: ${step}`, fraction) });
  const local = Promise.all([readPlanModel(model), listDevices(tools)]);
  local.catch(() => undefined); // awaited below, unless opening the links fails first
  const links = await openMemberLinks({ ...linkOptions, tools });
  try {
    const [shape, localDevices] = await local;
    return { tools, links, plan: await planModel({ model: shape, tools, members: links.members, options, localDevices }) };
  } catch (error) {
    await links.close();
    throw error;
  }
}
