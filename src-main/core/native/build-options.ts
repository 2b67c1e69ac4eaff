import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * CMake options for Hearth's build. The ggml backends are built as loadable modules
 * (GGML_BACKEND_DL) and the CPU backend is left out: both the CPU and the GPU backends come
 * prebuilt from node-llama-cpp's platform packages, so users need no GPU toolkit.
 */
export function cmakeOptions(platform: NodeJS.Platform = process.platform): string[] {
  const options = [
    '-DCMAKE_BUILD_TYPE=Release',
    '-DBUILD_SHARED_LIBS=ON',
    '-DGGML_BACKEND_DL=ON',
    '-DGGML_CPU=OFF',
    '-DGGML_RPC=ON',
    '-DGGML_NATIVE=OFF',
    // Executables find their libraries beside themselves, so the folder can move into the cache.
    '-DCMAKE_BUILD_RPATH_USE_ORIGIN=ON',
    // No network at build time: no prebuilt web UI download, no TLS client.
    '-DLLAMA_USE_PREBUILT_UI=OFF',
    '-DLLAMA_OPENSSL=OFF',
    '-DLLAMA_BUILD_TESTS=OFF',
    '-DLLAMA_BUILD_EXAMPLES=OFF',
  ];
  if (platform === 'darwin') options.push('-DGGML_METAL=OFF'); // Metal comes from node-llama-cpp's module too.
  return options;
}

/** A patch of Hearth's to the llama.cpp tree, applied in name order. */
export interface SourcePatch {
  name: string;
  path: string;
  contents: string;
}

/** Read the `.patch` files of a folder (missing folder: none), sorted by name. */
export async function readPatches(dir: string): Promise<SourcePatch[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((name) => name.endsWith('.patch')).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return Promise.all(
    names.map(async (name) => ({ name, path: path.join(dir, name), contents: await readFile(path.join(dir, name), 'utf8') })),
  );
}

/** The programs Hearth drives: the worker engine and the coordinator engine. */
export const TOOL_TARGETS = ['ggml-rpc-server', 'llama-server'] as const;

/** What a worker runs: built first on a fresh machine, so it serves within a minute; llama-server follows when first needed. */
export const WORKER_TARGETS = ['ggml-rpc-server'] as const satisfies readonly (typeof TOOL_TARGETS)[number][];

/** A CMake target of the llama.cpp tree that Hearth builds. */
export type ToolTarget = (typeof TOOL_TARGETS)[number];

/** What a build depends on; any change makes a new build folder. */
export interface BuildInputs {
  release: string;
  patches: SourcePatch[];
  targets: readonly ToolTarget[];
  options: string[];
  platform: string;
  arch: string;
}

/** Short stable key naming a build folder: release + patch contents + options + platform. */
export function buildKey(inputs: BuildInputs): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify({
    release: inputs.release,
    patches: inputs.patches.map((patch) => [patch.name, patch.contents]),
    targets: inputs.targets,
    options: inputs.options,
    platform: inputs.platform,
    arch: inputs.arch,
  }));
  return `${inputs.release}-${hash.digest('hex').slice(0, 12)}`;
}
