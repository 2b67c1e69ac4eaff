import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { physicalCores } from '../../../src-main/core/worker/cpu-cores.js';
import { scratchDir } from '../../helpers/models.js';

/** A /sys/devices/system/cpu with these sibling lists, one per CPU (null: offline, no topology). */
function fakeSysfs(siblings: (string | null)[], file = 'core_cpus_list'): string {
  const dir = scratchDir('hearth-sysfs-');
  siblings.forEach((list, cpu) => {
    const topology = path.join(dir, `cpu${cpu}`, 'topology');
    mkdirSync(list === null ? path.join(dir, `cpu${cpu}`) : topology, { recursive: true });
    if (list !== null) writeFileSync(path.join(topology, file), `${list}\n`);
  });
  mkdirSync(path.join(dir, 'cpufreq')); // not a CPU
  return dir;
}

describe('physicalCores', () => {
  // What this machine allows bounds every answer.
  const logical = os.availableParallelism();

  it('counts CPUs that share a core once (two hardware threads per core)', () => {
    expect(physicalCores({ platform: 'linux', sysfsCpuDir: fakeSysfs(['0,1', '0,1']) })).toBe(1);
  });

  it('counts every CPU of a machine without hardware threads, reading older kernels\' file, and skips offline CPUs', () => {
    const dir = fakeSysfs(['0', '1', null], 'thread_siblings_list');
    expect(physicalCores({ platform: 'linux', sysfsCpuDir: dir })).toBe(Math.min(2, logical));
  });

  it('falls back to the logical CPUs where the topology cannot be read', () => {
    expect(physicalCores({ platform: 'linux', sysfsCpuDir: path.join(scratchDir(), 'missing') })).toBe(logical);
    expect(physicalCores({ platform: 'win32' })).toBe(logical);
  });
});
