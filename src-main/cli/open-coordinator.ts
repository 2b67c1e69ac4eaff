// What `hearth plan`, `warm` and `load` open with: the llama.cpp tools, this cluster's members
// (mDNS and the peers the flags name), a coordinator over them, and the first plan. ggml's probe
// of this machine's devices (a child process that loads every backend module: a few hundred
// milliseconds) and the read of the model's header run while mDNS listens, not after.
import { Coordinator } from '../core/coordinator/coordinator.js';
import { discoverMembers } from '../core/coordinator/discover-members.js';
import type { MemberSource } from '../core/coordinator/members.js';
import type { Planned } from '../core/coordinator/planned.js';
import { ensureTools, type LlamaTools } from '../core/native/tools.js';
import { listDevices } from '../core/native/devices.js';
import { readPlanModel } from '../core/planner/model-shape.js';
import type { FlagValue } from './command.js';
import type { CliOutput } from './output.js';
import { manualPeers, planOptions, waitMs } from './plan-flags.js';

/** The command's coordinator and its plan; `close()` ends both (the caller must call it). */
export interface CommandCoordinator {
  tools: LlamaTools;
  coordinator: Coordinator;
  /** The members as the command's own look at the LAN finds them, kept up to date while it runs. */
  members: MemberSource;
  planned: Planned;
  close(): Promise<void>;
}

/** Plan `model` across this machine and the members the flags name or mDNS finds; nothing stays open on failure. */
export async function openCoordinator(model: string, flags: Record<string, FlagValue>, dataDir: string, out: CliOutput): Promise<CommandCoordinator> {
  // The flags first: a usage error comes before anything starts.
  const options = planOptions(flags);
  const find = { dataDir, manual: manualPeers(flags), discovery: !flags['no-discovery'], waitMs: waitMs(flags) };
  const tools = await ensureTools({ onProgress: ({ step, fraction }) => out.progress(`building llama.cpp tools: ${step}`, fraction) });
  const local = Promise.all([readPlanModel(model), listDevices(tools)]);
  local.catch(() => undefined); // awaited below, unless finding the members fails first
  const members = await discoverMembers({ ...find, ours: { release: tools.release, rpcProtocol: tools.rpcProtocol } });
  let coordinator: Coordinator | null = null;
  const close = async () => {
    await coordinator?.close();
    await members.stop();
  };
  try {
    const [shape, devices] = await local;
    coordinator = new Coordinator({ tools, dataDir, members, localDevices: async () => devices });
    return { tools, coordinator, members, planned: await coordinator.plan(shape, options).result, close };
  } catch (error) {
    await close();
    throw error;
  }
}
