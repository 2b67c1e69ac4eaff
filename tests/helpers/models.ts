// Synthetic GGUF models for tests, written once per test file into a temporary folder, and
// scratch folders.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { syntheticPresets, writeSyntheticLlama } from './synthetic/llama-model.js';

type Preset = keyof typeof syntheticPresets;
const written = new Map<Preset, Promise<string>>();
let dir: string | undefined;

// Every folder made here goes when the file's tests end. The hook is registered once, as this
// module loads with the test file: vitest ignores an afterAll registered from inside a test or a
// hook, which left a folder behind at every such call. Exit removes whatever a crash left.
const made = new Set<string>();
const removeMade = (): void => {
  for (const folder of made) rmSync(folder, { recursive: true, force: true });
  made.clear();
};
afterAll(removeMade);
process.once('exit', removeMade);

function tempFolder(prefix: string): string {
  const folder = mkdtempSync(path.join(os.tmpdir(), prefix));
  made.add(folder);
  return folder;
}

/** Path of a synthetic model made from a named preset (made on first use in this test file). */
export function syntheticModel(preset: Preset): Promise<string> {
  dir ??= tempFolder('hearth-models-');
  const target = path.join(dir, `${preset}.gguf`);
  let model = written.get(preset);
  if (!model) {
    model = writeSyntheticLlama(target, syntheticPresets[preset]).then(() => target);
    written.set(preset, model);
  }
  return model;
}

/** A fresh temporary folder, removed after the file's tests. */
export function scratchDir(prefix = 'hearth-test-'): string {
  return tempFolder(prefix);
}
