import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LlamaServerToolStatus } from '../../../src-main/core/api/contract.js';
import { LlamaServerBuild } from '../../../src-main/core/native/llama-server-build.js';
import { scratchDir } from '../../helpers/models.js';

const { HEARTH_TOOLS_DIR: _bundled, ...env } = process.env;

describe('llama-server for the app and hearth serve', () => {
  it('opens a built llama-server without compiling anything, and says it is ready', async () => {
    const build = new LlamaServerBuild({ env });
    const statuses: LlamaServerToolStatus['state'][] = [];
    build.on('status', (status: LlamaServerToolStatus) => statuses.push(status.state));
    expect(build.status).toEqual({ state: 'waiting', build: null, error: null });
    const tools = await build.builtTools();
    expect(tools?.targets).toContain('llama-server');
    expect(existsSync(tools!.llamaServer)).toBe(true);
    expect(statuses).toEqual(['ready']);
    expect(await build.ensure()).toBe(tools);
  });

  it('does not start a build when asked whether llama-server is built on a machine that has none', async () => {
    const cacheDir = scratchDir('hearth-empty-cache-');
    const build = new LlamaServerBuild({ env, paths: { cacheDir, dataDir: scratchDir() } });
    expect(await build.builtTools()).toBeNull();
    expect(build.status.state).toBe('waiting');
    expect(existsSync(path.join(cacheDir, 'llama.cpp'))).toBe(false);
  });
});
