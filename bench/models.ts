// The synthetic models the benchmarks measure, written once per run however many benchmarks use
// the same one (a 1.25 GiB model takes a while to write), and removed when the run ends.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeSyntheticLlama, type SyntheticLlamaSpec } from '../tests/helpers/synthetic/llama-model.js';

const written = new Map<string, Promise<{ file: string; bytes: number }>>();
let dir: string | undefined;

/** The model file of `spec` and its size, written on first use in this run. */
export function benchModel(spec: SyntheticLlamaSpec): Promise<{ file: string; bytes: number }> {
  let model = written.get(spec.name);
  if (!model) {
    if (!dir) {
      const made = (dir = mkdtempSync(path.join(os.tmpdir(), 'hearth-bench-models-')));
      process.once('exit', () => rmSync(made, { recursive: true, force: true }));
    }
    const file = path.join(dir, `${spec.name}.gguf`);
    process.stderr.write(`Writing the synthetic model ${spec.name}…\n`);
    model = writeSyntheticLlama(file, spec).then(({ bytes }) => ({ file, bytes }));
    written.set(spec.name, model);
  }
  return model;
}
