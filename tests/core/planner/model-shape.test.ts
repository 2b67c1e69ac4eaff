// Reading what the planner needs from a real GGUF file, and refusing headers that lack it.
import { describe, expect, it } from 'vitest';
import { modelShape, readPlanModel } from '../../../src-main/core/planner/model-shape.js';
import { syntheticModel } from '../../helpers/models.js';

describe('readPlanModel', () => {
  it('reads the tensor table and the shape of a synthetic llama model', async () => {
    const { facts, shape } = await readPlanModel(await syntheticModel('tiny'));
    // tiny: 2 layers, hidden 256, ffn 704, 4 heads, 2 kv heads, vocab 2048, context 512.
    expect(shape).toEqual({ architecture: 'llama', blockCount: 2, embedding: 256, feedForward: 704, heads: [4, 4], kvHeads: [2, 2], keyLength: 64, valueLength: 64, vocab: 2048, trainedContext: 512 });
    expect(facts.tensors.map((tensor) => tensor.name)).toContain('blk.1.ffn_down.weight');
  });

  it('refuses a file that is not a model, naming it', async () => {
    await expect(readPlanModel('/nonexistent/model.gguf')).rejects.toThrow('/nonexistent/model.gguf: no such file');
  });
});

describe('modelShape', () => {
  it('takes per-layer head counts and explicit key/value lengths as llama.cpp does', () => {
    const shape = modelShape('m.gguf', 'llama', { block_count: 3, embedding_length: 512, feed_forward_length: [1024, 2048, 1024], attention: { head_count: 8, head_count_kv: [8, 2, 2], key_length: 128, value_length: 96 } }, 1000);
    expect(shape).toMatchObject({ feedForward: 2048, heads: [8, 8, 8], kvHeads: [8, 2, 2], keyLength: 128, valueLength: 96, vocab: 1000, trainedContext: null });
  });

  it('defaults the KV heads to the heads (no GQA) and the head length to n_embd / n_head', () => {
    const shape = modelShape('m.gguf', 'llama', { block_count: 1, embedding_length: 512, feed_forward_length: 1024, attention: { head_count: 8 } }, 1000);
    expect(shape).toMatchObject({ kvHeads: [8], keyLength: 64, valueLength: 64 });
  });

  it('refuses a header without what the KV cache depends on', () => {
    expect(() => modelShape('m.gguf', 'llama', { embedding_length: 512 }, 1)).toThrow('m.gguf: the header has no llama.block_count, so Hearth cannot plan how to split it.');
    expect(() => modelShape('m.gguf', 'llama', { block_count: 2, embedding_length: 512 }, 1)).toThrow('the header has no llama.attention.head_count');
    expect(() => modelShape('m.gguf', 'llama', { block_count: 2, embedding_length: 512, attention: { head_count: [8] } }, 1)).toThrow('llama.attention.head_count lists 1 layers but the model has 2');
  });
});
