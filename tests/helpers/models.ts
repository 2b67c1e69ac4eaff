// Synthetic GGUF models for tests: written once per test process into a temporary folder.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { syntheticPresets, writeSyntheticLlama } from '../../src-main/core/gguf/synthetic/llama-model.js';

type Preset = keyof typeof syntheticPresets;
const written = new Map<Preset, Promise<string>>();
let dir: string | undefined;

/** Path of a synthetic model made from a named preset (made on first use in this test file). */
export function syntheticModel(preset: Preset): Promise<string> {
  if (!dir) {
    dir = mkdtempSync(path.join(os.tmpdir(), 'hearth-models-'));
    const made = dir;
    afterAll(() => rmSync(made, { recursive: true, force: true }));
  }
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
  const made = mkdtempSync(path.join(os.tmpdir(), prefix));
  afterAll(() => rmSync(made, { recursive: true, force: true }));
  return made;
}
