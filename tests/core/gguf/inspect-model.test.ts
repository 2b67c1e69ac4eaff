import { copyFile, mkdir, open, readFile, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { syntheticPresets } from '../../helpers/synthetic/llama-model.js';
import { inspectModel, isCachedTensor, RPC_HASH_THRESHOLD } from '../../../src-main/core/gguf/inspect-model.js';
import { isHearthError } from '../../../src-main/core/base/errors.js';
import { scratchDir, syntheticModel } from '../../helpers/models.js';

/** Parameters of a llama model, counted from its spec (independently of the file). */
function expectedParameters(spec: (typeof syntheticPresets)[keyof typeof syntheticPresets]): number {
  const kvDim = (spec.hidden / spec.heads) * spec.kvHeads;
  const perLayer = 2 * spec.hidden + spec.hidden * spec.hidden * 2 + spec.hidden * kvDim * 2 + 3 * spec.hidden * spec.ffn;
  return spec.layers * perLayer + 2 * spec.vocab * spec.hidden + spec.hidden;
}

async function expectBadModel(file: string, pattern: RegExp): Promise<void> {
  const error = await inspectModel(file).then(() => undefined, (caught: unknown) => caught);
  expect(isHearthError(error), `expected a HearthError, got ${String(error)}`).toBe(true);
  const message = (error as Error).message;
  expect(message).toContain(file);
  expect(message).toMatch(pattern);
}

describe('inspectModel', () => {
  it('reads the facts of a synthetic model', async () => {
    const spec = syntheticPresets.cacheSized;
    const file = await syntheticModel('cacheSized');
    const facts = await inspectModel(file);
    expect(facts).toMatchObject({
      architecture: 'llama',
      name: spec.name,
      fileType: 'F16',
      layers: spec.layers,
      contextLength: spec.contextLength,
      ggufVersion: 3,
      tensorCount: 2 + spec.layers * 9 + 1,
      parameterCount: expectedParameters(spec),
    });
    expect(facts.fileBytes).toBe((await readFile(file)).length);
    // ffn matrices (3 per layer), token_embd and output are over upstream's 10 MiB in this preset;
    // attention q and output (2 MiB) are under it but cached by Hearth; k, v (512 KiB) and the norms are not.
    const over = facts.tensors.filter((tensor) => tensor.byteSize > RPC_HASH_THRESHOLD);
    expect(over.map((tensor) => tensor.name).sort()).toEqual(
      ['output.weight', 'token_embd.weight', ...Array.from({ length: spec.layers }, (_, i) => ['gate', 'up', 'down'].map((m) => `blk.${i}.ffn_${m}.weight`)).flat()].sort(),
    );
    const cached = facts.tensors.filter((tensor) => tensor.byteSize >= 2 ** 20);
    expect(cached.map((tensor) => tensor.name).sort()).toEqual(
      [...over.map((tensor) => tensor.name), ...Array.from({ length: spec.layers }, (_, i) => [`blk.${i}.attn_q.weight`, `blk.${i}.attn_output.weight`]).flat()].sort(),
    );
    expect(facts.tensors.filter(isCachedTensor)).toEqual(cached);
    expect(facts.cacheable).toEqual({ tensors: cached.length, bytes: cached.reduce((sum, tensor) => sum + tensor.byteSize, 0) });
    // The last tensor ends at the end of the file: sizes and offsets are exact.
    const end = Math.max(...facts.tensors.map((tensor) => tensor.fileOffset + tensor.byteSize));
    expect(end).toBe(facts.fileBytes);
  });

  it('names the quantisation of a Q8_0 model', async () => {
    const facts = await inspectModel(await syntheticModel('q8'));
    expect(facts.fileType).toBe('Q8_0');
    expect(facts.parameterCount).toBe(expectedParameters(syntheticPresets.q8));
  });

  describe('refuses bad files with an error naming the file and the problem', () => {
    const dir = scratchDir();

    it('a missing file', () => expectBadModel(path.join(dir, 'missing.gguf'), /no such file/));

    it('an empty file', async () => {
      const file = path.join(dir, 'empty.gguf');
      await writeFile(file, '');
      await expectBadModel(file, /empty/);
    });

    it('a file that is not GGUF', async () => {
      const file = path.join(dir, 'notes.gguf');
      await writeFile(file, 'these are not the weights you are looking for\n'.repeat(100));
      await expectBadModel(file, /not a GGUF file/);
    });

    it('a folder', async () => {
      const folder = path.join(dir, 'folder.gguf');
      await mkdir(folder);
      await expectBadModel(folder, /folder/);
    });

    it('a file cut inside its tensor data', async () => {
      const file = path.join(dir, 'cut-data.gguf');
      await copyFile(await syntheticModel('tiny'), file);
      const { fileBytes } = await inspectModel(file);
      await truncate(file, fileBytes - 1000);
      await expectBadModel(file, /truncated/);
    });

    it('a file cut inside its header', async () => {
      const file = path.join(dir, 'cut-header.gguf');
      await copyFile(await syntheticModel('tiny'), file);
      await truncate(file, 2000);
      await expectBadModel(file, /truncated inside its header/);
    });

    it('a file cut inside the first 24 bytes', async () => {
      const file = path.join(dir, 'cut-magic.gguf');
      await writeFile(file, Buffer.from('GGUF\x03\x00\x00\x00', 'latin1'));
      await expectBadModel(file, /truncated/);
    });

    it('an unsupported GGUF version', async () => {
      const file = path.join(dir, 'version-9.gguf');
      await copyFile(await syntheticModel('tiny'), file);
      await patchBytes(file, 4, Buffer.from([9, 0, 0, 0]));
      await expectBadModel(file, /version 9/);
    });

    it('an absurd tensor count', async () => {
      const file = path.join(dir, 'absurd.gguf');
      await copyFile(await syntheticModel('tiny'), file);
      const count = Buffer.alloc(8);
      count.writeBigUInt64LE(2n ** 60n);
      await patchBytes(file, 8, count);
      await expectBadModel(file, /damaged/);
    });
  });
});

async function patchBytes(file: string, offset: number, bytes: Buffer): Promise<void> {
  const handle = await open(file, 'r+');
  try {
    await handle.write(bytes, 0, bytes.length, offset);
  } finally {
    await handle.close();
  }
}
