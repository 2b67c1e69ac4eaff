import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildKey, cmakeOptions, readPatches, TOOL_TARGETS, type BuildInputs } from '../../../src-main/core/native/build-options.js';
import { scratchDir } from '../../helpers/models.js';

const base: BuildInputs = { release: 'v0.4.0', patches: [], targets: TOOL_TARGETS, options: cmakeOptions('linux'), platform: 'linux', arch: 'x64' };

describe('build key', () => {
  it('names the release and changes with anything that changes the binaries', () => {
    const key = buildKey(base);
    expect(key).toMatch(/^v0\.4\.0-[0-9a-f]{12}$/);
    expect(buildKey({ ...base })).toBe(key);
    const patch = { name: '0001-x.patch', path: '/p/0001-x.patch', contents: 'diff --git a/x b/x\n' };
    const variants: BuildInputs[] = [
      { ...base, release: 'v0.4.1' },
      { ...base, patches: [patch] },
      { ...base, patches: [{ ...patch, contents: `${patch.contents}+one more line\n` }] },
      { ...base, options: [...base.options, '-DGGML_CUDA=ON'] },
      { ...base, arch: 'arm64' },
      { ...base, targets: ['ggml-rpc-server'] },
    ];
    const keys = new Set([key, ...variants.map(buildKey)]);
    expect(keys.size).toBe(variants.length + 1);
  });

  it('builds the RPC tools with dynamically loaded backends and no CPU backend of its own', () => {
    expect(base.options).toEqual(expect.arrayContaining(['-DGGML_RPC=ON', '-DGGML_BACKEND_DL=ON', '-DGGML_CPU=OFF', '-DBUILD_SHARED_LIBS=ON']));
  });
});

describe('readPatches', () => {
  it('reads .patch files in name order and nothing else', async () => {
    const dir = scratchDir();
    await writeFile(path.join(dir, '0002-b.patch'), 'b');
    await writeFile(path.join(dir, '0001-a.patch'), 'a');
    await writeFile(path.join(dir, 'README.md'), 'notes');
    const patches = await readPatches(dir);
    expect(patches.map((patch) => [patch.name, patch.contents])).toEqual([['0001-a.patch', 'a'], ['0002-b.patch', 'b']]);
  });

  it('treats a missing folder as no patches', async () => {
    const dir = scratchDir();
    await mkdir(path.join(dir, 'empty'));
    expect(await readPatches(path.join(dir, 'missing'))).toEqual([]);
    expect(await readPatches(path.join(dir, 'empty'))).toEqual([]);
  });
});
