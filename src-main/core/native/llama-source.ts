import { readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { HearthError } from '../base/errors.js';

/** The llama.cpp source that ships inside node-llama-cpp: a git bundle and its release tag. */
export interface LlamaSource {
  /** node-llama-cpp's package folder. */
  packageDir: string;
  /** `llama/gitRelease.bundle`: the full llama.cpp tree of one release. */
  bundlePath: string;
  /** Release tag, e.g. "v0.4.0" (from `llama/llama.cpp.info.json`). */
  release: string;
}

/** node-llama-cpp's package folder, found through Node's own module resolution. */
export function nodeLlamaCppDir(): string {
  // The package's exports hide package.json, so resolve its entry point and walk up from dist/.
  const entry = createRequire(import.meta.url).resolve('node-llama-cpp');
  return path.resolve(path.dirname(entry), '..');
}

/** Locate the bundled llama.cpp source and read its release tag. */
export async function findLlamaSource(packageDir = nodeLlamaCppDir()): Promise<LlamaSource> {
  const bundlePath = path.join(packageDir, 'llama', 'gitRelease.bundle');
  const infoPath = path.join(packageDir, 'llama', 'llama.cpp.info.json');
  try {
    await stat(bundlePath);
    const info = JSON.parse(await readFile(infoPath, 'utf8')) as { tag?: unknown };
    if (typeof info.tag !== 'string' || info.tag === '') throw new Error(`no "tag" in ${infoPath}`);
    return { packageDir, bundlePath, release: info.tag };
  } catch (cause) {
    throw new HearthError(
      'llama-source-missing',
      `The llama.cpp source bundled with node-llama-cpp was not found at ${bundlePath}: run "npm install" again.`,
      { cause },
    );
  }
}
