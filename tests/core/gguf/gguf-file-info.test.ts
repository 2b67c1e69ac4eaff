// Hearth loads node-llama-cpp's GGUF reader from its file, not through the package's entry point
// (which loads all of node-llama-cpp): the file must be where the pinned version keeps it, and
// read what the entry point's reader reads.
import { existsSync } from 'node:fs';
import { readGgufFileInfo as fromEntryPoint } from 'node-llama-cpp';
import { describe, expect, it } from 'vitest';
import { ggufReaderPath, readGgufFileInfo } from '../../../src-main/core/gguf/gguf-file-info.js';
import { syntheticModel } from '../../helpers/models.js';

describe('readGgufFileInfo', () => {
  it('is node-llama-cpp\'s own reader, loaded from its file', async () => {
    expect(existsSync(ggufReaderPath())).toBe(true);
    const model = await syntheticModel('tiny');
    const options = { sourceType: 'filesystem', logWarnings: false, spliceSplitFiles: false } as const;
    const ours = await readGgufFileInfo(model, options);
    const theirs = await fromEntryPoint(model, options);
    expect(ours.metadata).toEqual(theirs.metadata);
    expect(ours.tensorInfo?.map((tensor) => [tensor.name, tensor.offset])).toEqual(theirs.tensorInfo?.map((tensor) => [tensor.name, tensor.offset]));
    expect(ours.tensorInfo?.length).toBeGreaterThan(0);
  });
});
