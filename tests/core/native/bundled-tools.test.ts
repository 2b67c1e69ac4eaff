import { execFile } from 'node:child_process';
import { chmod, copyFile, link, lstat, mkdir, readdir, readFile, readlink, realpath, rename, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { cudaCandidates, cudaRuntime, findBackendModules } from '../../../src-main/core/native/backends.js';
import { bundleLocation, openBundle, type BundleManifest } from '../../../src-main/core/native/bundled-tools.js';
import { stageBundle } from '../../../src-main/core/native/stage-bundle.js';
import { ensureTools, locateTools, nodeModulesDir } from '../../../src-main/core/native/tools.js';
import { listDevices } from '../../../src-main/core/native/devices.js';
import { scratchDir } from '../../helpers/models.js';

const run = promisify(execFile);
const scratch = scratchDir('hearth-bundle-');
const exe = process.platform === 'win32' ? '.exe' : '';
const hasCudaPackages = cudaCandidates(nodeModulesDir()).length > 0;

/** Stage this machine's build (made by the global setup) as a bundle, with the function `npm run stage:native` uses. */
async function stage(name: string): Promise<string> {
  const outDir = path.join(scratch, name);
  await stageBundle({ buildDir: (await locateTools()).dir, nodeModulesDir: nodeModulesDir(), outDir });
  return outDir;
}

let base: Promise<string> | undefined;

/**
 * A bundle of its own for one test: hard links to a bundle staged once, which lies beside it (the
 * bundle holds hundreds of MB of GPU modules). Files may be deleted or replaced, never written into:
 * they are the build's and node_modules' own files where the file system allowed links.
 */
async function freshBundle(name: string): Promise<string> {
  base ??= stage('base');
  const to = path.join(scratch, name);
  await linkTree(await base, to);
  return to;
}

async function linkTree(from: string, to: string): Promise<void> {
  await mkdir(to);
  for (const entry of await readdir(from, { withFileTypes: true })) {
    const [source, target] = [path.join(from, entry.name), path.join(to, entry.name)];
    if (entry.isDirectory()) await linkTree(source, target);
    else if (entry.isSymbolicLink()) await symlink(await readlink(source), target);
    else await link(source, target).catch(() => copyFile(source, target));
  }
}

function envWith(dir: string): NodeJS.ProcessEnv {
  const { GGML_BACKEND_PATH: _ignored, ...env } = process.env;
  return { ...env, HEARTH_TOOLS_DIR: dir };
}

async function editManifest(dir: string, edit: (manifest: BundleManifest) => void): Promise<void> {
  const file = path.join(dir, 'tools.json');
  const manifest = JSON.parse(await readFile(file, 'utf8')) as BundleManifest;
  edit(manifest);
  await replaceFile(file, JSON.stringify(manifest));
}

/** Write a file of a bundle made by `freshBundle` without writing through a shared link. */
async function replaceFile(file: string, contents: string): Promise<void> {
  await rm(file);
  await writeFile(file, contents);
}

describe('tools bundled with the app', () => {
  it('are staged from the build with every backend module, and run from wherever the bundle is moved', async () => {
    const staged = await stage('staged');
    // electron-builder copies the folder into the app: nothing in it may depend on where it was made.
    const dir = path.join(scratch, 'moved');
    await rename(staged, dir);
    const built = await ensureTools({ env: { ...process.env, HEARTH_TOOLS_DIR: '' } });
    const tools = await ensureTools({ env: envWith(dir) });
    expect(tools.rpcServer).toBe(path.join(dir, 'bin', `ggml-rpc-server${exe}`));
    expect(tools.llamaServer).toBe(path.join(dir, 'bin', `llama-server${exe}`));
    expect(tools.cwd).toBe(path.join(dir, 'bin'));
    expect({ release: tools.release, key: tools.key, rpcProtocol: tools.rpcProtocol }).toEqual({ release: built.release, key: built.key, rpcProtocol: built.rpcProtocol });

    const manifest = JSON.parse(await readFile(path.join(dir, 'tools.json'), 'utf8')) as BundleManifest;
    const offered = findBackendModules(nodeModulesDir(), () => false).map((module) => `bin/${module.fileName}`);
    expect(offered.length).toBeGreaterThan(0);
    expect(manifest.backends.map((module) => module.path)).toEqual(expect.arrayContaining(offered));
    expect(manifest.files).toEqual(expect.arrayContaining(['bin/ggml-rpc-server' + exe, 'bin/llama-server' + exe, ...offered]));
    // Links inside the bundle stay inside it.
    const realDir = await realpath(dir);
    for (const file of manifest.files) {
      if ((await lstat(path.join(dir, file))).isSymbolicLink()) expect(await realpath(path.join(dir, file)), file).toContain(realDir);
    }

    // Hearth's patched rpc-server lists the devices, with the CPU module from the bundle's own copy.
    const cpu = (await listDevices(tools)).find((device) => device.backend === 'CPU');
    expect(cpu, 'a CPU device').toBeDefined();
    expect(cpu!.modulePath).toContain(realDir);
    const { stdout, stderr } = await run(tools.llamaServer, ['--version'], { env: tools.env, cwd: tools.cwd });
    expect(`${stdout}${stderr}`).toContain(`version: ${tools.release.replace(/^v/, '')}`);
  });

  it.runIf(process.platform === 'linux')('load no ggml or llama.cpp library from outside the bundle', async () => {
    const dir = await freshBundle('self-contained');
    const tools = await ensureTools({ env: envWith(dir) });
    // glibc's loader names every library it initialises.
    const { stderr } = await run(tools.rpcServer, ['--list-devices'], { env: { ...tools.env, LD_DEBUG: 'libs' }, cwd: tools.cwd });
    const loaded = [...stderr.matchAll(/calling init: (\S+)/g)].map((match) => match[1]!).filter((file) => /ggml|llama|mtmd/.test(path.basename(file)));
    expect(loaded.length).toBeGreaterThan(2);
    for (const file of loaded) expect(file.startsWith(dir), file).toBe(true);
  });

  it.runIf(process.platform === 'linux' && hasCudaPackages)('load the CUDA build whose runtime the system has, beside the programs\' own ggml', async () => {
    const dir = await freshBundle('cuda');
    const location = { dir, origin: 'HEARTH_TOOLS_DIR' } as const;
    const env = envWith(dir);
    const open = (libs: string[]) => openBundle(location, { env, systemLibraries: new Set(libs) });
    const cuda12 = path.join(dir, 'cuda-12', 'libggml-cuda.so');
    const cuda13 = path.join(dir, 'cuda-13', 'libggml-cuda.so');

    const none = await open([]);
    expect(none.tools.env.GGML_BACKEND_PATH).toBeUndefined();
    expect(none.tools.backends.some((module) => module.backend === 'CUDA')).toBe(false);
    const only12 = await open(cudaRuntime(12));
    expect(only12.tools.env.GGML_BACKEND_PATH).toBe(cuda12);
    expect(only12.tools.backends.filter((module) => module.backend === 'CUDA').map((module) => module.sourcePath)).toEqual([cuda12]);
    const both = await open([...cudaRuntime(13), ...cudaRuntime(12)]);
    expect(both.tools.env.GGML_BACKEND_PATH).toBe(cuda13);

    // This machine has no NVIDIA driver: the CPU module ggml picks here stands in for the CUDA build,
    // to show that ggml loads a module from that folder (with the programs' libggml-base), whatever the cwd.
    const cpuModule = (await listDevices(none.tools)).find((device) => device.backend === 'CPU')!.modulePath!;
    await rm(cuda13);
    await copyFile(cpuModule, cuda13);
    const { stderr } = await run(both.tools.rpcServer, ['--list-devices'], { env: both.tools.env, cwd: os.tmpdir() });
    expect(stderr).toContain(`loaded CPU backend from ${cuda13}`);
  });

  it('are refused, saying what is wrong, when a program is missing or not executable', async () => {
    const dir = await freshBundle('no-server');
    await rm(path.join(dir, 'bin', `llama-server${exe}`));
    await expect(ensureTools({ env: envWith(dir) })).rejects.toMatchObject({
      code: 'tools-bundle-broken',
      message: expect.stringMatching(new RegExp(`HEARTH_TOOLS_DIR \\(${escape(dir)}\\).*bin/llama-server${exe} is missing.*npm run stage:native`)),
    });

    if (process.platform === 'win32') return;
    const locked = await freshBundle('not-executable');
    const rpcServer = path.join(locked, 'bin', 'ggml-rpc-server');
    // A copy of its own, so the build's program keeps its mode.
    const copy = `${rpcServer}.copy`;
    await copyFile(rpcServer, copy);
    await rm(rpcServer);
    await rename(copy, rpcServer);
    await chmod(rpcServer, 0o644);
    await expect(ensureTools({ env: envWith(locked) })).rejects.toThrow(/bin\/ggml-rpc-server is not executable/);
  });

  it('are refused when a library is missing, or tools.json is broken or for another release or platform', async () => {
    const noLib = await freshBundle('no-lib');
    const manifest = JSON.parse(await readFile(path.join(noLib, 'tools.json'), 'utf8')) as BundleManifest;
    const library = manifest.files.find((file) => /llama/.test(file) && !/server/.test(file))!;
    await rm(path.join(noLib, ...library.split('/')));
    await expect(ensureTools({ env: envWith(noLib) })).rejects.toThrow(`${library} is missing`);

    const garbled = await freshBundle('garbled');
    await replaceFile(path.join(garbled, 'tools.json'), '{"format": 1, "release": ');
    await expect(ensureTools({ env: envWith(garbled) })).rejects.toThrow(/tools\.json is not valid JSON/);
    await rm(path.join(garbled, 'tools.json'));
    await expect(ensureTools({ env: envWith(garbled) })).rejects.toThrow(/tools\.json is missing/);

    const incomplete = await freshBundle('incomplete');
    await editManifest(incomplete, (edited) => delete (edited as Partial<BundleManifest>).rpcServer);
    await expect(ensureTools({ env: envWith(incomplete) })).rejects.toThrow(/tools\.json has no "rpcServer"/);

    const stale = await freshBundle('stale');
    await editManifest(stale, (edited) => (edited.release = 'b1'));
    await expect(ensureTools({ env: envWith(stale) })).rejects.toThrow(new RegExp(`llama.cpp b1, but this Hearth is made for ${manifest.release}`));

    const foreign = await freshBundle('foreign');
    await editManifest(foreign, (edited) => (edited.platform = 'plan9'));
    await expect(ensureTools({ env: envWith(foreign) })).rejects.toThrow(`holds tools for plan9-${process.arch}`);

    await expect(ensureTools({ env: envWith(path.join(scratch, 'nothing-here')) })).rejects.toThrow(/the folder does not exist/);
  });

  it('tell users of the installed app to reinstall it', async () => {
    const dir = await freshBundle('installed');
    await rm(path.join(dir, 'bin', `ggml-rpc-server${exe}`));
    await expect(openBundle({ dir, origin: 'app' })).rejects.toThrow(/^The llama\.cpp tools bundled with Hearth .* is missing\. Reinstall Hearth\.$/);
  });
});

describe('where bundled tools are looked for', () => {
  const resources = path.join(path.sep, 'opt', 'Hearth', 'resources');

  it('is HEARTH_TOOLS_DIR when set, else the installed app\'s resources', () => {
    expect(bundleLocation({ HEARTH_TOOLS_DIR: 'some/dir' }, resources, path.join(resources, 'app.asar'))).toEqual({ dir: path.resolve('some/dir'), origin: 'HEARTH_TOOLS_DIR' });
    expect(bundleLocation({}, resources, path.join(resources, 'app.asar'))).toEqual({ dir: path.join(resources, 'llama.cpp'), origin: 'app' });
  });

  it('is nowhere for a checkout, in plain Node or in Electron run from it', () => {
    expect(bundleLocation({}, undefined, '/home/me/hearth')).toBeNull();
    expect(bundleLocation({}, '/home/me/hearth/node_modules/electron/dist/resources', '/home/me/hearth')).toBeNull();
    expect(bundleLocation({ HEARTH_TOOLS_DIR: '' }, undefined, '/home/me/hearth')).toBeNull();
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
