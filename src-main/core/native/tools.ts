import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { appRoot } from '../base/app-root.js';
import type { BuildProgress } from '../../shared/devices.js';
import { hearthPaths, type HearthPaths } from '../base/paths.js';
import { findBackendModules, linkBackendModules, systemLibraries, type BackendModule } from './backends.js';
import { buildKey, cmakeOptions, readPatches, TOOL_TARGETS, type BuildInputs } from './build-options.js';
import type { BuildRecord } from './build.js';
import { findBundledTools } from './bundled-tools.js';
import { findLlamaSource, nodeLlamaCppDir, type LlamaSource } from './llama-source.js';

/** The llama.cpp programs Hearth drives, ready to run. */
export interface LlamaTools {
  release: string;
  rpcProtocol: string;
  /** Build folder name: release + a hash of patches and options. */
  key: string;
  binDir: string;
  /** The worker engine. */
  rpcServer: string;
  /** The coordinator engine. */
  llamaServer: string;
  /** Backend modules linked beside the programs (from node-llama-cpp's packages). */
  backends: BackendModule[];
  /** Environment and working folder to run the programs with. */
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export interface ToolsOptions {
  paths?: HearthPaths;
  /** Called while building from source (only the first time). */
  onProgress?: (progress: BuildProgress) => void;
  env?: NodeJS.ProcessEnv;
}

/** Hearth's own patches to llama.cpp, kept in the repository. */
export function patchesDir(): string {
  return path.join(appRoot(), 'patches', 'llama.cpp');
}

/** Where the build for this source, these patches and options lives, and whether it is complete. */
export interface ToolsLocation {
  source: LlamaSource;
  inputs: BuildInputs;
  key: string;
  buildsDir: string;
  dir: string;
  built: boolean;
}

/** Work out which build this checkout needs, without building. */
export async function locateTools(options: ToolsOptions = {}): Promise<ToolsLocation> {
  const source = await findLlamaSource();
  return locateBuild(source, {
    release: source.release,
    patches: await readPatches(patchesDir()),
    targets: TOOL_TARGETS,
    options: cmakeOptions(),
    platform: process.platform,
    arch: process.arch,
  }, options);
}

/** Where a build of `inputs` lives in the per-user cache, and whether it is complete. */
export function locateBuild(source: LlamaSource, inputs: BuildInputs, options: ToolsOptions = {}): ToolsLocation {
  const paths = options.paths ?? hearthPaths(options.env);
  const key = buildKey(inputs);
  const buildsDir = path.join(paths.cacheDir, 'llama.cpp');
  const dir = path.join(buildsDir, key);
  return { source, inputs, key, buildsDir, dir, built: existsSync(path.join(dir, 'build.json')) };
}

/**
 * The tools: those bundled with the installed app (or in HEARTH_TOOLS_DIR) when there are some,
 * else this machine's build, built from the bundled source first if there is none yet.
 */
export async function ensureTools(options: ToolsOptions = {}): Promise<LlamaTools> {
  const bundled = await findBundledTools(options.env ?? process.env);
  if (bundled) return bundled.tools;
  return ensureBuild(await locateTools(options), options);
}

/** Build `location` unless it is built, then open it. */
export async function ensureBuild(location: ToolsLocation, options: ToolsOptions = {}): Promise<LlamaTools> {
  const env = options.env ?? process.env;
  if (!location.built) {
    // Loaded only to build: a command run on built tools never needs it.
    const { buildToolsOnce } = await import('./build.js');
    await buildToolsOnce(
      { source: location.source, inputs: location.inputs, key: location.key, buildsDir: location.buildsDir, onProgress: options.onProgress, env },
      async () => existsSync(path.join(location.dir, 'build.json')),
    );
  }
  return openBuild(location.dir, env);
}

/** Open a finished build folder and link the prebuilt backend modules beside its programs. */
export async function openBuild(dir: string, env: NodeJS.ProcessEnv = process.env): Promise<LlamaTools> {
  const record = JSON.parse(await readFile(path.join(dir, 'build.json'), 'utf8')) as BuildRecord;
  const binDir = path.join(dir, 'bin');
  const exe = process.platform === 'win32' ? '.exe' : '';
  const libs = await systemLibraries(env);
  const backends = findBackendModules(nodeModulesDir(), (soname) => libs.has(soname));
  await linkBackendModules(binDir, backends);
  return {
    release: record.release,
    rpcProtocol: record.rpcProtocol,
    key: record.key,
    binDir,
    rpcServer: path.join(binDir, `ggml-rpc-server${exe}`),
    llamaServer: path.join(binDir, `llama-server${exe}`),
    backends,
    env: { ...env },
    cwd: binDir,
  };
}

/** The node_modules folder node-llama-cpp's platform packages were installed into. */
export function nodeModulesDir(): string {
  // @node-llama-cpp/* sit beside node-llama-cpp itself.
  return path.resolve(nodeLlamaCppDir(), '..');
}
