import { constants, existsSync } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import { appRoot } from '../base/app-root.js';
import { HearthError } from '../base/errors.js';
import { chooseCudaModule, systemLibraries, type BackendModule } from './backends.js';
import { TOOL_TARGETS } from './build-options.js';
import { findLlamaSource } from './llama-source.js';
import type { LlamaTools } from './tools.js';

/** The manifest at the top of a tools bundle. */
export const TOOLS_MANIFEST = 'tools.json';
/** The bundle layout this code reads and `stageBundle` writes. */
export const BUNDLE_FORMAT = 1;

/** A backend module in a bundle. */
export interface BundledBackend {
  backend: BackendModule['backend'];
  fileName: string;
  /** Relative to the bundle, `/`-separated. Modules in `bin/` are found by ggml itself. */
  path: string;
  needs: string[];
  /** For CUDA builds, which sit outside `bin/`: the CUDA runtime major version they need. */
  runtimeMajor?: number;
}

/** `tools.json`: what was staged, from which build, and every file that must be there. */
export interface BundleManifest {
  format: number;
  release: string;
  rpcProtocol: string;
  key: string;
  platform: string;
  arch: string;
  patches: string[];
  /** The two programs, relative to the bundle. */
  rpcServer: string;
  llamaServer: string;
  backends: BundledBackend[];
  /** Every file and link of the bundle but the manifest, relative and `/`-separated. */
  files: string[];
}

/** Where bundled tools are looked for: the variable a developer set, or the installed app. */
export interface BundleLocation {
  dir: string;
  origin: 'HEARTH_TOOLS_DIR' | 'app';
}

/** An opened, checked bundle. */
export interface BundledTools extends BundleLocation {
  manifest: BundleManifest;
  tools: LlamaTools;
}

/**
 * Where this process's bundled tools are: `HEARTH_TOOLS_DIR`, else `<resources>/llama.cpp` when
 * running as an installed app (Electron's `process.resourcesPath`, with Hearth itself inside it);
 * null for a checkout, where the tools are built from source.
 */
export function bundleLocation(
  env: NodeJS.ProcessEnv = process.env,
  resourcesPath: string | undefined = (process as { resourcesPath?: string }).resourcesPath,
  root: string = appRoot(),
): BundleLocation | null {
  if (env.HEARTH_TOOLS_DIR) return { dir: path.resolve(env.HEARTH_TOOLS_DIR), origin: 'HEARTH_TOOLS_DIR' };
  // Electron run from a checkout has a resourcesPath too (its own), but Hearth is not inside it.
  if (resourcesPath && isInside(root, resourcesPath)) return { dir: path.join(resourcesPath, 'llama.cpp'), origin: 'app' };
  return null;
}

function isInside(file: string, dir: string): boolean {
  const relative = path.relative(dir, file);
  return !relative.startsWith('..') && !path.isAbsolute(relative);
}

/** The bundled tools when there should be some (see `bundleLocation`), checked; null otherwise. */
export async function findBundledTools(env: NodeJS.ProcessEnv = process.env): Promise<BundledTools | null> {
  const location = bundleLocation(env);
  return location ? openBundle(location, { env }) : null;
}

/**
 * Read and check a bundle and return its tools ready to run. CUDA builds sit in their own
 * folders (ggml can hold one `libggml-cuda`): the one whose runtime this system has is loaded
 * through ggml's `GGML_BACKEND_PATH` (ggml/src/ggml-backend-reg.cpp, ggml_backend_load_all_from_path).
 * A bundle that is there but broken is an error: an installed app cannot build its own.
 */
export async function openBundle(
  location: BundleLocation,
  options: { env?: NodeJS.ProcessEnv; systemLibraries?: Set<string> } = {},
): Promise<BundledTools> {
  const env = options.env ?? process.env;
  const manifest = await readManifest(location);
  await checkBundle(location, manifest);
  const resolve = (file: string) => path.join(location.dir, ...file.split('/'));
  const libs = options.systemLibraries ?? (await systemLibraries(env));
  const cuda = chooseCudaModule(
    manifest.backends.filter((module) => module.backend === 'CUDA').map((module) => ({ sourcePath: resolve(module.path), runtimeMajor: module.runtimeMajor ?? 0 })),
    (soname) => libs.has(soname),
  );
  const backends = manifest.backends
    .filter((module) => module.backend !== 'CUDA' || resolve(module.path) === cuda?.sourcePath)
    .map((module) => ({ backend: module.backend, fileName: module.fileName, sourcePath: resolve(module.path), needs: module.needs }));
  const rpcServer = resolve(manifest.rpcServer);
  const binDir = path.dirname(rpcServer);
  const tools: LlamaTools = {
    release: manifest.release,
    rpcProtocol: manifest.rpcProtocol,
    key: manifest.key,
    binDir,
    rpcServer,
    llamaServer: resolve(manifest.llamaServer),
    targets: TOOL_TARGETS,
    backends,
    env: cuda ? { ...env, GGML_BACKEND_PATH: cuda.sourcePath } : { ...env },
    cwd: binDir,
  };
  return { ...location, manifest, tools };
}

function broken(location: BundleLocation, problem: string, cause?: unknown): HearthError {
  const remedy = location.origin === 'app'
    ? 'Reinstall Hearth.'
    : 'Stage it again ("npm run stage:native") or unset HEARTH_TOOLS_DIR to use tools built from source.';
  const where = location.origin === 'app' ? 'The llama.cpp tools bundled with Hearth' : `The llama.cpp tools in HEARTH_TOOLS_DIR`;
  return new HearthError('tools-bundle-broken', `${where} (${location.dir}) cannot be used: ${problem}. ${remedy}`, { cause });
}

async function readManifest(location: BundleLocation): Promise<BundleManifest> {
  if (!existsSync(location.dir)) throw broken(location, 'the folder does not exist');
  const file = path.join(location.dir, TOOLS_MANIFEST);
  let value: unknown;
  try {
    value = JSON.parse(await readFile(file, 'utf8'));
  } catch (cause) {
    const why = (cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'is missing' : `is not valid JSON (${(cause as Error).message})`;
    throw broken(location, `${TOOLS_MANIFEST} ${why}`, cause);
  }
  const problem = manifestProblem(value);
  if (problem) throw broken(location, `${TOOLS_MANIFEST} ${problem}`);
  return value as BundleManifest;
}

/** What is wrong with a parsed `tools.json`, or null when it has every field. */
function manifestProblem(value: unknown): string | null {
  if (typeof value !== 'object' || value === null) return 'is not an object';
  const manifest = value as Record<string, unknown>;
  if (manifest.format !== BUNDLE_FORMAT) return `has format ${JSON.stringify(manifest.format)}, this Hearth reads format ${BUNDLE_FORMAT}`;
  for (const field of ['release', 'rpcProtocol', 'key', 'platform', 'arch', 'rpcServer', 'llamaServer'] as const) {
    if (typeof manifest[field] !== 'string' || manifest[field] === '') return `has no "${field}"`;
  }
  for (const field of ['patches', 'files'] as const) {
    if (!Array.isArray(manifest[field]) || !manifest[field].every((item) => typeof item === 'string')) return `has no "${field}" list`;
  }
  const backends = manifest.backends;
  if (!Array.isArray(backends) || !backends.every((module: Partial<BundledBackend>) => typeof module?.path === 'string' && typeof module.fileName === 'string' && Array.isArray(module.needs))) {
    return 'has no valid "backends" list';
  }
  return null;
}

async function checkBundle(location: BundleLocation, manifest: BundleManifest): Promise<void> {
  const here = `${process.platform}-${process.arch}`;
  if (`${manifest.platform}-${manifest.arch}` !== here) throw broken(location, `it holds tools for ${manifest.platform}-${manifest.arch}, this machine is ${here}`);
  for (const program of [manifest.rpcServer, manifest.llamaServer]) {
    const file = path.join(location.dir, program);
    if (!existsSync(file)) throw broken(location, `${program} is missing`);
    try {
      await access(file, constants.X_OK);
    } catch (cause) {
      throw broken(location, `${program} is not executable`, cause);
    }
  }
  // existsSync follows links: a dangling one counts as missing.
  const missing = manifest.files.filter((file) => !existsSync(path.join(location.dir, ...file.split('/'))));
  if (missing.length > 0) throw broken(location, `${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ` and ${missing.length - 3} more files are` : missing.length > 1 ? ' are' : ' is'} missing`);
  // The tools must speak the llama.cpp release the rest of Hearth (GGUF reading, peers) expects.
  const { release } = await findLlamaSource();
  if (manifest.release !== release) throw broken(location, `its tools are llama.cpp ${manifest.release}, but this Hearth is made for ${release}`);
}
