// A fresh machine's `hearth worker` builds only what a worker runs (ggml-rpc-server, not
// llama-server) and serves; two started at once build it once. A real build from the bundled
// source into an empty cache folder: about 45 s on 2 idle cores.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DoctorReport } from '../../src-main/core/native/doctor.js';
import { locateTools } from '../../src-main/core/native/tools.js';
import { runHearth } from '../helpers/cli.js';
import { startHearth, stopped, type Event } from '../helpers/hearth-process.js';
import { scratchDir } from '../helpers/models.js';

const BUILD_MS = 8 * 60_000;

describe('hearth worker on a fresh machine', () => {
  it('builds ggml-rpc-server alone, once for two workers started together, and serves; llama-server waits until a model is loaded', { timeout: BUILD_MS + 60_000 }, async () => {
    const cacheDir = scratchDir('hearth-fresh-cache-');
    const { HEARTH_TOOLS_DIR: _bundled, ...env } = process.env;
    const freshEnv = { ...env, HEARTH_CACHE_DIR: cacheDir };
    const workers = ['a', 'b'].map((name) =>
      startHearth(['worker', '--json', '--port', '0', '--rpc-port', '0', '--link-host', '127.0.0.1', '--link-port', '0', '--no-discovery', '--cache-dir', scratchDir(`hearth-${name}-tensors-`)], { ...freshEnv, HEARTH_DATA_DIR: scratchDir(`hearth-${name}-data-`) }),
    );
    try {
      const ready = await Promise.all(workers.map((worker) => worker.next('ready')));
      expect(ready.map((event) => event.rpc)).toEqual([expect.stringMatching(/^127\.0\.0\.1:\d+$/), expect.stringMatching(/^127\.0\.0\.1:\d+$/)]);

      // One of them built (the other waited on the build lock), and it compiled the worker engine only.
      const compiled = workers.map((worker) => new Set(worker.events.filter(isProgress).map((event) => /compiling (\S+)/.exec(String(event.step))?.[1]).filter(Boolean)));
      expect(compiled.map((targets) => [...targets]).sort()).toEqual([[], ['ggml-rpc-server']]);

      const location = await locateTools({ env: freshEnv });
      expect(location.dir.startsWith(cacheDir)).toBe(true);
      expect(location.built).toEqual(['ggml-rpc-server']);
      expect(existsSync(path.join(location.dir, 'bin', 'ggml-rpc-server'))).toBe(true);
      expect(existsSync(path.join(location.dir, 'bin', 'llama-server'))).toBe(false);
      // The configured tree stays for llama-server's build, which then compiles only what it adds.
      expect(JSON.parse(readFileSync(`${location.dir}.partial/tree.json`, 'utf8'))).toMatchObject({ key: location.key });

      const doctor = await runHearth(['doctor', '--json'], { env: freshEnv });
      expect(doctor.code, doctor.stderr).toBe(0);
      expect((JSON.parse(doctor.stdout) as DoctorReport).tools).toMatchObject({ targets: ['ggml-rpc-server'] });
      expect((await runHearth(['doctor'], { env: freshEnv })).stdout).toMatch(/llama-server:\s+not built yet: it builds when a model is first loaded here/);
    } finally {
      for (const worker of workers) expect(await stopped(worker), worker.stderr()).toBe(0);
    }
  });
});

function isProgress(event: Event): boolean {
  return event.event === 'progress';
}
