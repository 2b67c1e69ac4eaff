import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readGgufFileInfo } from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticPresets, writeSyntheticLlama, type SyntheticLlamaSpec } from '../../helpers/synthetic/llama-model.js';
import { ensureTools } from '../../../src-main/core/native/tools.js';
import { startLlamaServer } from '../../helpers/llama-server.js';

// llama.cpp's RPC client hashes instead of sending tensors larger than this (ggml-rpc.cpp HASH_THRESHOLD).
const RPC_CACHE_THRESHOLD = 10 * 1024 * 1024;
const FILE_TYPE = { F16: 1, Q8_0: 7 } as const;
const GGML_F16 = 1;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'hearth-synthetic-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(name: string, spec: SyntheticLlamaSpec): Promise<string> {
  const file = path.join(dir, `${name}.gguf`);
  await writeSyntheticLlama(file, spec);
  return file;
}

function readInfo(file: string) {
  return readGgufFileInfo(file, { sourceType: 'filesystem', logWarnings: false });
}

describe('synthetic llama GGUF', () => {
  it.each([
    ['tiny', syntheticPresets.tiny],
    ['q8', syntheticPresets.q8],
  ] as const)('%s is read by node-llama-cpp with the shape of its spec', async (name, spec) => {
    const info = await readInfo(await write(name, spec));

    expect(info.version).toBe(3);
    expect(info.metadata.general.architecture).toBe('llama');
    expect(info.metadata.general.name).toBe(spec.name);
    expect(info.metadata.general.file_type).toBe(FILE_TYPE[spec.type]);
    expect(info.architectureMetadata.block_count).toBe(spec.layers);
    expect(info.architectureMetadata.embedding_length).toBe(spec.hidden);
    expect(info.architectureMetadata.feed_forward_length).toBe(spec.ffn);
    expect(info.architectureMetadata.attention?.head_count_kv).toBe(spec.kvHeads);
    // token_embd, output_norm, output + 9 per block
    expect(Number(info.tensorCount)).toBe(3 + 9 * spec.layers);
    expect(info.metadata.tokenizer?.ggml.tokens).toHaveLength(spec.vocab);
    expect(info.tensorInfo?.map((t) => t.name)).toContain('blk.1.ffn_down.weight');
  });

  it('is byte-identical for the same spec and differs for another seed', async () => {
    const spec = syntheticPresets.tiny;
    const first = await readFile(await write('same-a', spec));
    const second = await readFile(await write('same-b', spec));
    const reseeded = await readFile(await write('reseeded', { ...spec, seed: spec.seed + 1 }));

    expect(first.equals(second)).toBe(true);
    expect(reseeded.length).toBe(first.length);
    expect(reseeded.equals(first)).toBe(false);
  });

  it('cacheSized has matrices over the RPC cache threshold and stays modest on disk', async () => {
    const file = await write('cache-sized', syntheticPresets.cacheSized);
    const info = await readInfo(file);
    const large = (info.tensorInfo ?? [])
      .filter((t) => t.ggmlType === GGML_F16)
      .filter((t) => t.dimensions.reduce<number>((a, b) => a * Number(b), 1) * 2 > RPC_CACHE_THRESHOLD)
      .map((t) => t.name);

    expect(large).toEqual(expect.arrayContaining(['token_embd.weight', 'output.weight', 'blk.0.ffn_up.weight', 'blk.1.ffn_down.weight']));
    expect((await stat(file)).size).toBeLessThan(150 * 1024 * 1024);
  });

  describe('loaded by llama-server', () => {
    let tools: Awaited<ReturnType<typeof ensureTools>>;
    // tests/global-setup.ts has normally built the tools already; this only opens that build.
    beforeAll(async () => {
      tools = await ensureTools();
    }, 20 * 60_000);

    it.for([
      ['F16', syntheticPresets.tiny],
      ['Q8_0', syntheticPresets.q8],
    ] as const)('%s gives the same greedy output on two separate server runs', { timeout: 120_000 }, async ([type, spec], { onTestFinished }) => {
      const model = await write(`served-${type}`, spec);
      const prompt = 'The hearth is warm and the model is ready';
      const run = async () => {
        const server = await startLlamaServer({ llamaServer: tools.llamaServer, cwd: tools.cwd, env: tools.env, model });
        onTestFinished(() => server.stop());
        const completion = await server.complete(prompt, 16);
        await server.stop();
        return completion;
      };

      const first = await run();
      const second = await run();

      expect(first.tokens).toHaveLength(16);
      expect(first.content.length).toBeGreaterThan(0);
      expect(second).toEqual(first);
    });
  });
});
