import { readdir, symlink } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildTools } from '../../../src-main/core/native/build.js';
import { findLlamaSource } from '../../../src-main/core/native/llama-source.js';
import { assertToolchain, findOnPath } from '../../../src-main/core/native/toolchain.js';
import { cmakeOptions, TOOL_TARGETS } from '../../../src-main/core/native/build-options.js';
import { isHearthError } from '../../../src-main/core/base/errors.js';
import { scratchDir } from '../../helpers/models.js';

/** A PATH holding only links to the named real programs. */
async function pathWith(dir: string, programs: string[]): Promise<string> {
  for (const program of programs) {
    const real = findOnPath([program]);
    if (!real) throw new Error(`${program} is not installed on this machine`);
    await symlink(real, path.join(dir, program));
  }
  return dir;
}

describe('the build toolchain check', () => {
  it('passes where git, cmake and a compiler are installed', () => {
    expect(() => assertToolchain()).not.toThrow();
  });

  it('names the missing program and the package to install', async () => {
    const noCmake = await pathWith(scratchDir(), ['git', 'g++']);
    expect(() => assertToolchain({ PATH: noCmake })).toThrow(/needs cmake.*apt-get install cmake/);
    const noCompiler = await pathWith(scratchDir(), ['git', 'cmake']);
    expect(() => assertToolchain({ PATH: noCompiler })).toThrow(/needs a C\+\+ compiler.*apt-get install g\+\+/);
  });

  it('stops a build before it writes anything', async () => {
    const buildsDir = scratchDir();
    const noCmake = await pathWith(scratchDir(), ['git', 'g++']);
    const source = await findLlamaSource();
    const error = await buildTools({
      source,
      inputs: { release: source.release, patches: [], targets: TOOL_TARGETS, options: cmakeOptions(), platform: process.platform, arch: process.arch },
      key: 'test-key',
      buildsDir,
      env: { PATH: noCmake },
    }).then(() => undefined, (caught: unknown) => caught);
    expect(isHearthError(error) && error.code).toBe('toolchain-missing');
    expect(await readdir(buildsDir)).toEqual([]);
  });
});
