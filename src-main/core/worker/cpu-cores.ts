// How many threads the worker's CPU device computes with: one per physical core, as llama.cpp's
// own tools choose (common's `cpu_get_num_math`; it also leaves out the efficiency cores of hybrid
// x86 processors, which this does not). ggml-rpc-server's default is half the logical
// CPUs, which assumes two hardware threads per core: on a machine without them (Apple silicon,
// most ARM boards, many virtual machines) it left half the cores idle.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Physical cores this process may run on (never more than its CPU affinity allows, never fewer than 1). */
export function physicalCores(options: { platform?: NodeJS.Platform; sysfsCpuDir?: string } = {}): number {
  const platform = options.platform ?? process.platform;
  const logical = os.availableParallelism();
  const counted = platform === 'linux' ? linuxCores(options.sysfsCpuDir ?? '/sys/devices/system/cpu') : platform === 'darwin' ? darwinCores() : null;
  return Math.max(1, Math.min(logical, counted ?? logical));
}

/** Cores as the kernel groups its CPUs: CPUs that share a core list the same siblings. */
function linuxCores(cpuDir: string): number | null {
  try {
    const cores = new Set<string>();
    for (const name of readdirSync(cpuDir)) {
      if (!/^cpu\d+$/.test(name)) continue;
      // An offline CPU has no topology folder.
      const topology = path.join(cpuDir, name, 'topology');
      const siblings = ['core_cpus_list', 'thread_siblings_list'].map((file) => path.join(topology, file)).find((file) => existsSync(file));
      if (siblings) cores.add(readFileSync(siblings, 'utf8').trim());
    }
    return cores.size > 0 ? cores.size : null;
  } catch {
    return null;
  }
}

/** Performance cores on Apple silicon (what llama.cpp counts there), else every physical core. */
function darwinCores(): number | null {
  for (const key of ['hw.perflevel0.physicalcpu', 'hw.physicalcpu']) {
    try {
      const cores = Number(execFileSync('sysctl', ['-n', key], { encoding: 'utf8', timeout: 5_000, stdio: ['ignore', 'pipe', 'ignore'] }).trim());
      if (Number.isInteger(cores) && cores > 0) return cores;
    } catch {
      // an Intel Mac has no perflevel keys
    }
  }
  return null;
}
