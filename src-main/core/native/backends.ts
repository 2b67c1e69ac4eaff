import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { copyFile, lstat, readlink, rm, symlink } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

/** A prebuilt ggml backend module from one of node-llama-cpp's platform packages. */
export interface BackendModule {
  backend: 'CPU' | 'CUDA' | 'Vulkan' | 'Metal';
  /** File name ggml looks for beside the executable, e.g. "libggml-cpu-haswell.so". */
  fileName: string;
  /** Where the package keeps it. */
  sourcePath: string;
  /** Shared libraries it needs from the system (the GPU runtime), by soname. */
  needs: string[];
}

const LIB = process.platform === 'win32' ? { prefix: 'ggml-', ext: '.dll' } : { prefix: 'libggml-', ext: '.so' };

/** node-llama-cpp's platform package names, e.g. "linux-x64", for this platform and arch. */
function platformPackage(platform: NodeJS.Platform, arch: string): string {
  const os = platform === 'win32' ? 'win' : platform === 'darwin' ? 'mac' : platform;
  return platform === 'darwin' && arch === 'arm64' ? `mac-arm64-metal` : `${os}-${arch}`;
}

/**
 * Every backend module the installed node-llama-cpp packages offer for this machine.
 * CPU variants are all offered (ggml scores them and loads the best for this processor);
 * of the CUDA builds only the one whose runtime the system has is offered, since ggml can
 * hold one file named `libggml-cuda.so`.
 */
export function findBackendModules(
  nodeModulesDir: string,
  hasSystemLib: (soname: string) => boolean,
  platform: NodeJS.Platform = process.platform,
  arch: string = process.arch,
): BackendModule[] {
  const pkg = platformPackage(platform, arch);
  const dir = (name: string, ...sub: string[]) => path.join(nodeModulesDir, '@node-llama-cpp', name, 'bins', ...sub);
  const modules: BackendModule[] = [];

  const cpuDir = dir(pkg, pkg);
  for (const fileName of listFiles(cpuDir)) {
    if (fileName.startsWith(`${LIB.prefix}cpu`) && fileName.endsWith(LIB.ext)) {
      modules.push({ backend: 'CPU', fileName, sourcePath: path.join(cpuDir, fileName), needs: [] });
    }
  }
  const cudaFile = `${LIB.prefix}cuda${LIB.ext}`;
  const cuda = chooseCudaModule(cudaCandidates(nodeModulesDir, platform, arch), hasSystemLib);
  if (cuda) modules.push({ backend: 'CUDA', fileName: cudaFile, sourcePath: cuda.sourcePath, needs: cudaRuntime(cuda.runtimeMajor) });

  const vulkanFile = `${LIB.prefix}vulkan${LIB.ext}`;
  const vulkanPath = path.join(dir(`${pkg}-vulkan`, `${pkg}-vulkan`), vulkanFile);
  if (existsSync(vulkanPath)) modules.push({ backend: 'Vulkan', fileName: vulkanFile, sourcePath: vulkanPath, needs: ['libvulkan.so.1'] });

  const metalFile = `${LIB.prefix}metal${LIB.ext}`;
  const metalPath = path.join(cpuDir, metalFile);
  if (existsSync(metalPath)) modules.push({ backend: 'Metal', fileName: metalFile, sourcePath: metalPath, needs: [] });
  return modules;
}

/** The CUDA builds of ggml node-llama-cpp installed: for the CUDA 13 runtime, and a fallback for CUDA 12. */
export function cudaCandidates(nodeModulesDir: string, platform: NodeJS.Platform = process.platform, arch: string = process.arch): CudaCandidate[] {
  const pkg = platformPackage(platform, arch);
  const file = `${LIB.prefix}cuda${LIB.ext}`;
  const bins = (name: string, ...sub: string[]) => path.join(nodeModulesDir, '@node-llama-cpp', name, 'bins', ...sub, file);
  return [
    { sourcePath: bins(`${pkg}-cuda`, `${pkg}-cuda`), runtimeMajor: 13 },
    { sourcePath: bins(`${pkg}-cuda-ext`, `${pkg}-cuda`, 'fallback'), runtimeMajor: 12 },
  ].filter((candidate) => existsSync(candidate.sourcePath));
}

/** A CUDA build of ggml and the CUDA runtime major version it links against. */
export interface CudaCandidate {
  sourcePath: string;
  runtimeMajor: number;
}

/** The CUDA libraries a module built against runtime `major` loads. */
export function cudaRuntime(major: number): string[] {
  return [`libcudart.so.${major}`, `libcublas.so.${major}`, 'libcuda.so.1'];
}

/** Pick the first CUDA build whose runtime libraries are all on the system, if any. */
export function chooseCudaModule(candidates: CudaCandidate[], hasSystemLib: (soname: string) => boolean): CudaCandidate | undefined {
  return candidates.find((candidate) => cudaRuntime(candidate.runtimeMajor).every(hasSystemLib));
}

function listFiles(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** The sonames the dynamic linker can find (Linux `ldconfig -p` plus LD_LIBRARY_PATH); empty elsewhere. */
export async function systemLibraries(env: NodeJS.ProcessEnv = process.env): Promise<Set<string>> {
  const found = new Set<string>();
  if (process.platform !== 'linux') return found;
  for (const dir of (env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean)) {
    for (const name of listFiles(dir)) found.add(name);
  }
  for (const ldconfig of ['ldconfig', '/sbin/ldconfig', '/usr/sbin/ldconfig']) {
    try {
      const { stdout } = await promisify(execFile)(ldconfig, ['-p']);
      for (const match of stdout.matchAll(/^\s+(\S+)\s+\(/gm)) found.add(match[1]!);
      break;
    } catch {
      // try the next location
    }
  }
  return found;
}

/**
 * Put the modules beside the executables in `binDir`, where ggml's loader looks. A link keeps
 * the 100+ MB GPU modules out of the build cache; where links are not allowed (Windows without
 * developer mode) the file is copied. Stale links from an earlier checkout are replaced.
 */
export async function linkBackendModules(binDir: string, modules: BackendModule[]): Promise<void> {
  for (const module of modules) {
    const target = path.join(binDir, module.fileName);
    if (await pointsTo(target, module.sourcePath)) continue;
    await rm(target, { force: true });
    try {
      await symlink(module.sourcePath, target);
    } catch {
      await copyFile(module.sourcePath, target);
    }
  }
}

async function pointsTo(link: string, sourcePath: string): Promise<boolean> {
  try {
    return (await lstat(link)).isSymbolicLink() && (await readlink(link)) === sourcePath && existsSync(link);
  } catch {
    return false;
  }
}
