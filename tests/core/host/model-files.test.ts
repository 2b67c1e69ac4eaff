import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { listModelFiles } from '../../../src-main/core/host/model-files.js';
import { scratchDir } from '../../helpers/models.js';

describe('the model files a browser may open', () => {
  it('are every model the cache can be filled from: nested folders and GGUF files by their magic too', async () => {
    const root = scratchDir();
    await mkdir(path.join(root, 'qwen', 'q4'), { recursive: true });
    await writeFile(path.join(root, 'top.gguf'), 'GGUF....');
    await writeFile(path.join(root, 'qwen', 'q4', 'deep.gguf'), 'GGUF....');
    await writeFile(path.join(root, 'qwen', 'no-suffix'), 'GGUF....');
    await writeFile(path.join(root, 'qwen', 'notes.txt'), 'not a model');
    await writeFile(path.join(root, '.hidden.gguf'), 'GGUF....');
    const files = await listModelFiles([root, path.join(root, 'missing')]);
    expect(files.map((file) => path.relative(root, file.path))).toEqual([path.join('qwen', 'q4', 'deep.gguf'), path.join('qwen', 'no-suffix'), 'top.gguf']);
    expect(files[0]).toMatchObject({ fileName: 'deep.gguf', bytes: 8 });
  });
});
