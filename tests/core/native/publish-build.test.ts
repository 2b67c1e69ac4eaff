import { existsSync } from 'node:fs';
import { mkdir, readFile, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readBuildRecord, recordedTargets, type BuildRecord } from '../../../src-main/core/native/build-record.js';
import { TOOL_TARGETS } from '../../../src-main/core/native/build-options.js';
import { publishBuild } from '../../../src-main/core/native/publish-build.js';
import { scratchDir } from '../../helpers/models.js';

const record = (targets: BuildRecord['targets']): BuildRecord => ({ key: 'k', release: 'v0', rpcProtocol: '1.0.0', patches: [], options: [], targets, builtAt: 'now' });

/** A cmake bin folder as a build step leaves it: programs, libraries and their version links. */
async function cmakeBin(files: Record<string, string>, links: Record<string, string> = {}): Promise<string> {
  const bin = path.join(scratchDir(), 'bin');
  await mkdir(bin, { recursive: true });
  for (const [name, contents] of Object.entries(files)) await writeFile(path.join(bin, name), contents);
  for (const [name, target] of Object.entries(links)) await symlink(target, path.join(bin, name));
  return bin;
}

describe('publishing a build step', () => {
  it('makes the folder appear whole with the worker engine, then adds llama-server beside it, leaving the files in use alone', async () => {
    const finalDir = path.join(scratchDir(), 'v0-key');
    const worker = await cmakeBin({ 'ggml-rpc-server': 'rpc', 'libggml.so.0.1': 'ggml' }, { 'libggml.so.0': 'libggml.so.0.1' });
    await publishBuild(finalDir, worker, record(['ggml-rpc-server']));
    expect(recordedTargets(readBuildRecord(finalDir), TOOL_TARGETS)).toEqual(['ggml-rpc-server']);
    expect(await readlink(path.join(finalDir, 'bin', 'libggml.so.0'))).toBe('libggml.so.0.1');
    const inUse = await stat(path.join(finalDir, 'bin', 'libggml.so.0.1'));

    // The same tree, built on: its bin holds the old files (rebuilt or not) and llama-server's.
    const full = await cmakeBin({ 'ggml-rpc-server': 'rpc', 'libggml.so.0.1': 'relinked', 'llama-server': 'server', 'libllama.so.0.4': 'llama' }, { 'libggml.so.0': 'libggml.so.0.1', 'libllama.so.0': 'libllama.so.0.4' });
    await publishBuild(finalDir, full, record(['ggml-rpc-server', 'llama-server']));
    expect(recordedTargets(readBuildRecord(finalDir), TOOL_TARGETS)).toEqual(['ggml-rpc-server', 'llama-server']);
    expect(await readFile(path.join(finalDir, 'bin', 'llama-server'), 'utf8')).toBe('server');
    expect(await readlink(path.join(finalDir, 'bin', 'libllama.so.0'))).toBe('libllama.so.0.4');
    // A running worker's library is the same file as before, not a copy over it.
    const after = await stat(path.join(finalDir, 'bin', 'libggml.so.0.1'));
    expect([after.ino, await readFile(path.join(finalDir, 'bin', 'libggml.so.0.1'), 'utf8')]).toEqual([inUse.ino, 'ggml']);
    expect(existsSync(`${finalDir}.publishing`)).toBe(false);
  });

  it('replaces a folder left without its record (a crash before the rename) rather than trusting it', async () => {
    const finalDir = path.join(scratchDir(), 'v0-key');
    await mkdir(path.join(finalDir, 'bin'), { recursive: true });
    await writeFile(path.join(finalDir, 'bin', 'ggml-rpc-server'), 'truncated');
    expect(readBuildRecord(finalDir)).toBeNull();
    await publishBuild(finalDir, await cmakeBin({ 'ggml-rpc-server': 'rpc' }), record(['ggml-rpc-server']));
    expect(await readFile(path.join(finalDir, 'bin', 'ggml-rpc-server'), 'utf8')).toBe('rpc');
  });

  it('reads a record from before targets were listed as every target built', () => {
    expect(recordedTargets({ ...record(undefined) }, TOOL_TARGETS)).toEqual([...TOOL_TARGETS]);
    expect(recordedTargets(null, TOOL_TARGETS)).toEqual([]);
  });
});
