import { execFile } from 'node:child_process';
import { lstat, readdir, readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { nodeLlamaCppDir } from '../../../src-main/core/native/llama-source.js';
import { ensureTools, locateTools } from '../../../src-main/core/native/tools.js';
import { listDevices } from '../../../src-main/core/native/devices.js';
import { startLlamaServer } from '../../helpers/llama-server.js';
import { syntheticModel } from '../../helpers/models.js';

const platformPackage = path.join(path.dirname(nodeLlamaCppDir()), '@node-llama-cpp', `${process.platform}-${process.arch}`);

describe('the llama.cpp tools', () => {
  it('are built from the bundled release with Hearth\'s patches, and reused', async () => {
    const location = await locateTools();
    const tools = await ensureTools();
    const info = JSON.parse(await readFile(path.join(nodeLlamaCppDir(), 'llama', 'llama.cpp.info.json'), 'utf8')) as { tag: string };
    expect(tools.release).toBe(info.tag);
    expect(tools.key).toBe(location.key);
    expect(tools.key.startsWith(`${info.tag}-`)).toBe(true);
    expect(tools.rpcProtocol).toMatch(/^\d+\.\d+\.\d+$/);
    const record = JSON.parse(await readFile(path.join(location.dir, 'build.json'), 'utf8')) as { builtAt: string; patches: string[] };
    expect(record.patches).toEqual(location.inputs.patches.map((patch) => patch.name));
    expect(record.patches.length).toBeGreaterThan(0);
    // A second call finds the same build and does not rebuild it.
    await ensureTools();
    expect(JSON.parse(await readFile(path.join(location.dir, 'build.json'), 'utf8'))).toEqual(record);
    const { stdout, stderr } = await promisify(execFile)(tools.llamaServer, ['--version'], { env: tools.env, cwd: tools.cwd });
    expect(`${stdout}${stderr}`).toContain(`version: ${tools.release.replace(/^v/, '')}`);
  });

  it('carry no CPU backend of their own: the CPU device comes from node-llama-cpp\'s prebuilt module', async () => {
    const tools = await ensureTools();
    // Built with GGML_CPU=OFF: every CPU module beside the programs is a link into node-llama-cpp's package.
    const cpuFiles = (await readdir(tools.binDir)).filter((name) => /ggml-cpu/.test(name));
    expect(cpuFiles.length).toBeGreaterThan(0);
    for (const name of cpuFiles) {
      const file = path.join(tools.binDir, name);
      if ((await lstat(file)).isSymbolicLink()) expect(await realpath(file)).toContain(await realpath(platformPackage));
      else throw new Error(`${name} is a file of the build, not node-llama-cpp's module`);
    }

    const devices = await listDevices(tools);
    const cpu = devices.find((device) => device.backend === 'CPU');
    expect(cpu, JSON.stringify(devices)).toBeDefined();
    expect(cpu!.totalBytes).toBeGreaterThan(0);
    expect(cpu!.modulePath).toContain(await realpath(platformPackage));
  });

  it.runIf(process.platform === 'linux')('give the coordinator\'s llama-server the same prebuilt modules', async ({ onTestFinished }) => {
    const tools = await ensureTools();
    const server = await startLlamaServer({ llamaServer: tools.llamaServer, cwd: tools.cwd, env: tools.env, model: await syntheticModel('tiny') });
    onTestFinished(() => server.stop());
    // The loaded libraries of the running process: its CPU backend is node-llama-cpp's file.
    const maps = await readFile(`/proc/${server.pid}/maps`, 'utf8');
    const cpuModules = new Set(maps.split('\n').map((line) => line.split(/\s+/)[5] ?? '').filter((file) => /libggml-cpu/.test(file)));
    expect(cpuModules.size, maps).toBe(1);
    expect([...cpuModules][0]).toContain(await realpath(platformPackage));
    expect((await server.complete('Hello', 4)).tokens).toHaveLength(4);
  });
});
