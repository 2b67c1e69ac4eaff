import { existsSync } from 'node:fs';
import path from 'node:path';
import { appRoot } from '../base/app-root.js';
import { HearthError } from '../base/errors.js';
import type { BuildProgress } from '../../shared/devices.js';
import { hearthPaths, type HearthPaths } from '../base/paths.js';
import { findBackendModules, linkBackendModules, systemLibraries, type BackendModule } from './backends.js';
import { buildKey, cmakeOptions, readPatches, TOOL_TARGETS, type BuildInputs, type ToolTarget } from './build-options.js';
import { readBuildRecord, recordedTargets } from './build-record.js';
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
  /** The coordinator engine; there only when `targets` has it (a worker-only build has not built it yet). */
  llamaServer: string;
  /** The programs that are built. */
  targets: readonly ToolTarget[];
  /** Backend modules linked beside the programs (from node-llama-cpp's packages). */
  backends: BackendModule[];
  /** Environment and working folder to run the programs with. */
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export interface ToolsOptions {
  paths?: HearthPaths;
  /** The programs needed (default: all of them); a worker needs only WORKER_TARGETS. */
  targets?: readonly ToolTarget[];
  /** Called while building from source (only the first time). */
  onProgress?: (progress: BuildProgress) => void;
  env?: NodeJS.ProcessEnv;
  /** Build at low CPU priority (in the background, beside a serving worker). */
  background?: boolean;
}

/** Hearth's own patches to llama.cpp, kept in the repository. */
export function patchesDir(): string {
  return path.join(appRoot(), 'patches', 'llama.cpp');
}

/** Where the build for this source, these patches and options lives, and which of its programs are built. */
export interface ToolsLocation {
  source: LlamaSource;
  inputs: BuildInputs;
  key: string;
  buildsDir: string;
  dir: string;
  /** Empty before the first build. */
  built: ToolTarget[];
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

/** Where a build of `inputs` lives in the per-user cache, and which of its programs are built. */
export function locateBuild(source: LlamaSource, inputs: BuildInputs, options: ToolsOptions = {}): ToolsLocation {
  const paths = options.paths ?? hearthPaths(options.env);
  const key = buildKey(inputs);
  const buildsDir = path.join(paths.cacheDir, 'llama.cpp');
  const dir = path.join(buildsDir, key);
  return { source, inputs, key, buildsDir, dir, built: recordedTargets(readBuildRecord(dir), inputs.targets) };
}

/**
 * The tools: those bundled with the installed app (or in HEARTH_TOOLS_DIR) when there are some,
 * else this machine's build, built from the bundled source first where `options.targets` are not built yet.
 */
export async function ensureTools(options: ToolsOptions = {}): Promise<LlamaTools> {
  const bundled = await findBundledTools(options.env ?? process.env);
  if (bundled) return bundled.tools;
  return ensureBuild(await locateTools(options), options);
}

/** Build what `options.targets` (default: every target of the location) needs that is not built yet, then open the build. */
export async function ensureBuild(location: ToolsLocation, options: ToolsOptions = {}): Promise<LlamaTools> {
  const env = options.env ?? process.env;
  const targets = options.targets ?? location.inputs.targets;
  const isBuilt = async (): Promise<boolean> => {
    const built = recordedTargets(readBuildRecord(location.dir), location.inputs.targets);
    return targets.every((target) => built.includes(target));
  };
  if (!(await isBuilt())) {
    // Loaded only to build: a command run on built tools never needs it.
    const { buildToolsOnce } = await import('./build.js');
    await buildToolsOnce(
      { source: location.source, inputs: location.inputs, key: location.key, buildsDir: location.buildsDir, targets, onProgress: options.onProgress, env, background: options.background },
      isBuilt,
    );
  }
  return openBuild(location.dir, env);
}

/** Open a published build folder and link the prebuilt backend modules beside its programs. */
export async function openBuild(dir: string, env: NodeJS.ProcessEnv = process.env): Promise<LlamaTools> {
  const record = readBuildRecord(dir);
  if (!record) throw new HearthError('tools-missing', `There is no llama.cpp build in ${dir}: run "hearth doctor --build" to build it.`);
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
    // A record from before targets were listed: whatever its folder holds.
    targets: record.targets ?? TOOL_TARGETS.filter((target) => existsSync(path.join(binDir, `${target}${exe}`))),
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
