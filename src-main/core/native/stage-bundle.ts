import { existsSync } from 'node:fs';
import { copyFile, link, lstat, mkdir, readdir, readFile, readlink, realpath, rename, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { cudaCandidates, cudaRuntime, findBackendModules } from './backends.js';
import type { BuildRecord } from './build.js';
import { BUNDLE_FORMAT, TOOLS_MANIFEST, type BundledBackend, type BundleManifest } from './bundled-tools.js';

// ggml backend modules as node-llama-cpp names them: a build folder holds links to them, not its own.
const BACKEND_MODULE = /^(lib)?ggml-(cpu|cuda|vulkan|metal)([-.]|$)/;

/** Where the bundle for a platform is staged in a checkout; electron-builder.yml packs it as `llama.cpp/`. */
export function stagedBundleDir(repoRoot: string, platform: string = process.platform, arch: string = process.arch): string {
  return path.join(repoRoot, 'build', 'native', `${platform}-${arch}`);
}

export interface StageRequest {
  /** A finished build of this machine (`build.json` and `bin/`), e.g. `locateTools().dir`. */
  buildDir: string;
  /** The node_modules holding node-llama-cpp's platform packages. */
  nodeModulesDir: string;
  /** Replaced as a whole. */
  outDir: string;
}

/**
 * Stage a self-contained tools bundle: the build's programs and libraries, every backend module
 * node-llama-cpp's packages offer for this platform (not only those this machine can run: users'
 * machines differ), and `tools.json`. Written to `<outDir>.partial`, renamed into place at the end.
 */
export async function stageBundle(request: StageRequest): Promise<BundleManifest> {
  const record = JSON.parse(await readFile(path.join(request.buildDir, 'build.json'), 'utf8')) as BuildRecord;
  const work = `${request.outDir}.partial`;
  await rm(work, { recursive: true, force: true });
  await mkdir(path.join(work, 'bin'), { recursive: true });
  await copyBuildOutputs(path.join(request.buildDir, 'bin'), path.join(work, 'bin'));

  const backends: BundledBackend[] = [];
  // With no system library "found", no CUDA build is chosen here: they are staged separately below.
  for (const module of findBackendModules(request.nodeModulesDir, () => false)) {
    await placeFile(module.sourcePath, path.join(work, 'bin', module.fileName));
    backends.push({ backend: module.backend, fileName: module.fileName, path: `bin/${module.fileName}`, needs: module.needs });
  }
  for (const candidate of cudaCandidates(request.nodeModulesDir)) {
    const folder = `cuda-${candidate.runtimeMajor}`;
    const fileName = path.basename(candidate.sourcePath);
    await mkdir(path.join(work, folder));
    await placeFile(candidate.sourcePath, path.join(work, folder, fileName));
    // Outside bin/ the module finds libggml-base through its $ORIGIN runpath: a link to the very
    // file the programs load, so one copy of ggml is in the process. Windows looks beside the .exe.
    const base = fileName.replace('cuda', 'base');
    if (process.platform !== 'win32' && existsSync(path.join(work, 'bin', base))) await symlink(`../bin/${base}`, path.join(work, folder, base));
    backends.push({ backend: 'CUDA', fileName, path: `${folder}/${fileName}`, needs: cudaRuntime(candidate.runtimeMajor), runtimeMajor: candidate.runtimeMajor });
  }

  const exe = process.platform === 'win32' ? '.exe' : '';
  const manifest: BundleManifest = {
    format: BUNDLE_FORMAT,
    release: record.release,
    rpcProtocol: record.rpcProtocol,
    key: record.key,
    platform: process.platform,
    arch: process.arch,
    patches: record.patches,
    rpcServer: `bin/ggml-rpc-server${exe}`,
    llamaServer: `bin/llama-server${exe}`,
    backends,
    files: await listFiles(work),
  };
  await writeFile(path.join(work, TOOLS_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  await rm(request.outDir, { recursive: true, force: true });
  await mkdir(path.dirname(request.outDir), { recursive: true });
  await rename(work, request.outDir);
  return manifest;
}

/** The build's own files: real files copied, links between its libraries kept as links. */
async function copyBuildOutputs(from: string, to: string): Promise<void> {
  for (const name of await readdir(from)) {
    if (BACKEND_MODULE.test(name)) continue;
    const source = path.join(from, name);
    const stat = await lstat(source);
    if (stat.isSymbolicLink()) {
      const target = await readlink(source);
      // libggml-base.so -> libggml-base.so.0 -> ...: one file under both names, so ggml loads once
      // whether a program or a backend module asks. electron-builder copies links as links.
      if (!/[\\/]/.test(target) && existsSync(path.join(from, target))) await symlink(target, path.join(to, name));
      else await placeFile(source, path.join(to, name));
    } else if (stat.isFile()) {
      await placeFile(source, path.join(to, name));
    }
  }
}

/** A hard link where the file system allows (the CUDA modules are hundreds of MB, and nothing writes to staged files), else a copy. */
async function placeFile(source: string, destination: string): Promise<void> {
  const real = await realpath(source);
  try {
    await link(real, destination);
  } catch {
    await copyFile(real, destination);
  }
}

/** Every file and link below `dir`, relative and `/`-separated, sorted. */
async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const relative = `${prefix}${entry.name}`;
    if (entry.isDirectory()) files.push(...(await listFiles(path.join(dir, entry.name), `${relative}/`)));
    else files.push(relative);
  }
  return files.sort();
}
