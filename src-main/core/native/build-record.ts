// `build.json`, the record beside a build's binaries: what was built, from what. Its presence
// marks a published build; its `targets` say which programs of the folder are there.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ToolTarget } from './build-options.js';

/** The record's file name inside a build folder. */
export const BUILD_RECORD = 'build.json';

/** What a build records beside its binaries. */
export interface BuildRecord {
  key: string;
  release: string;
  rpcProtocol: string;
  patches: string[];
  options: string[];
  /** The programs built so far (the worker's first, llama-server when first needed). */
  targets?: ToolTarget[];
  builtAt: string;
}

/** The record of the build in `dir`, or null when nothing is published there. */
export function readBuildRecord(dir: string): BuildRecord | null {
  try {
    return JSON.parse(readFileSync(path.join(dir, BUILD_RECORD), 'utf8')) as BuildRecord;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** Which of the folder's `all` targets a record says are built; a record without the list is from when every target was built at once. */
export function recordedTargets(record: BuildRecord | null, all: readonly ToolTarget[]): ToolTarget[] {
  if (!record) return [];
  return all.filter((target) => (record.targets ?? all).includes(target));
}
