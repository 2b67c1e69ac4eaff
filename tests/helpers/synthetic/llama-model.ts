// Synthetic llama-architecture GGUF models with seeded random weights, for tests and benchmarks
// (no real model can be downloaded here). Tensor names and shapes follow llama.cpp's llama
// architecture (src/models/llama.cpp `load_arch_tensors`, names in src/llama-arch.cpp).
import { HearthError } from '../../../src-main/core/base/errors.js';
import { GgmlType, writeGguf, type GgufTensor, type GgufValue, type GgufWriteResult } from './gguf-writer.js';
import { buildLlamaVocab, llamaTokenizerMetadata, MIN_VOCAB_SIZE } from './tokenizer.js';

/** The shape and contents of a synthetic llama model; the same spec always gives the same bytes. */
export interface SyntheticLlamaSpec {
  layers: number;
  hidden: number;
  ffn: number;
  heads: number;
  kvHeads: number;
  vocab: number;
  contextLength: number;
  type: 'F16' | 'Q8_0';
  seed: number;
  name: string;
  /** Fill-in-the-middle tokens in the vocabulary, so llama-server serves /infill with it. */
  fim?: boolean;
}

/** Named specs for tests and benchmarks (sizes measured on disk). */
export const syntheticPresets = {
  /** ~5 MB F16; loads in a fraction of a second. */
  tiny: { layers: 2, hidden: 256, ffn: 704, heads: 4, kvHeads: 2, vocab: 2048, contextLength: 512, type: 'F16', seed: 1, name: 'hearth-tiny' },
  /** tiny with fill-in-the-middle tokens, for editor completion (/infill). */
  tinyCoder: { layers: 2, hidden: 256, ffn: 704, heads: 4, kvHeads: 2, vocab: 2048, contextLength: 512, type: 'F16', seed: 1, name: 'hearth-tiny-coder', fim: true },
  /** ~113 MB F16 whose ffn, token_embd and output matrices each exceed llama.cpp's 10 MiB RPC cache threshold. */
  cacheSized: { layers: 2, hidden: 1024, ffn: 5632, heads: 16, kvHeads: 4, vocab: 8192, contextLength: 2048, type: 'F16', seed: 2, name: 'hearth-cache-sized' },
  /** ~17 MB Q8_0, four layers. */
  q8: { layers: 4, hidden: 512, ffn: 1408, heads: 8, kvHeads: 4, vocab: 4096, contextLength: 1024, type: 'Q8_0', seed: 3, name: 'hearth-q8' },
  /** ~1.3 GB F16, the size of the upstream measurements in DESIGN.md; for benchmarks, not unit tests. */
  benchmark: { layers: 12, hidden: 2048, ffn: 5632, heads: 16, kvHeads: 4, vocab: 32000, contextLength: 4096, type: 'F16', seed: 4, name: 'hearth-benchmark' },
} as const satisfies Record<string, SyntheticLlamaSpec>;

// llama_ftype values (include/llama.h): what `general.file_type` says the bulk of the weights are.
const FILE_TYPE = { F16: 1, Q8_0: 7 } as const;
const CHUNK_ELEMENTS = 1 << 20; // a multiple of the Q8_0 block size (32)

/** Writes a synthetic llama model described by `spec` to `filePath`. */
export async function writeSyntheticLlama(filePath: string, spec: SyntheticLlamaSpec): Promise<GgufWriteResult> {
  validate(spec);
  const vocab = buildLlamaVocab(spec.vocab, { fim: spec.fim });
  const headDim = spec.hidden / spec.heads;
  const u32 = (value: number): GgufValue => ({ type: 'uint32', value });
  const metadata: Array<readonly [string, GgufValue]> = [
    ['general.architecture', { type: 'string', value: 'llama' }],
    ['general.name', { type: 'string', value: spec.name }],
    ['general.file_type', u32(FILE_TYPE[spec.type])],
    ['general.quantization_version', u32(2)],
    ['llama.vocab_size', u32(spec.vocab)],
    ['llama.context_length', u32(spec.contextLength)],
    ['llama.embedding_length', u32(spec.hidden)],
    ['llama.block_count', u32(spec.layers)],
    ['llama.feed_forward_length', u32(spec.ffn)],
    ['llama.attention.head_count', u32(spec.heads)],
    ['llama.attention.head_count_kv', u32(spec.kvHeads)],
    ['llama.attention.layer_norm_rms_epsilon', { type: 'float32', value: 1e-5 }],
    ['llama.rope.dimension_count', u32(headDim)],
    ['llama.rope.freq_base', { type: 'float32', value: 10000 }],
    ...llamaTokenizerMetadata(vocab),
  ];
  return writeGguf(filePath, { metadata, tensors: llamaTensors(spec) });
}

/** The tensors of the llama architecture for `spec`, in the order they are written. */
function llamaTensors(spec: SyntheticLlamaSpec): GgufTensor[] {
  const type = spec.type === 'F16' ? GgmlType.F16 : GgmlType.Q8_0;
  const kvWidth = (spec.hidden / spec.heads) * spec.kvHeads;
  const shapes: Array<[string, number[], 'norm' | 'matrix']> = [['token_embd.weight', [spec.hidden, spec.vocab], 'matrix']];
  for (let i = 0; i < spec.layers; i++) {
    const blk = `blk.${i}`;
    shapes.push(
      [`${blk}.attn_norm.weight`, [spec.hidden], 'norm'],
      [`${blk}.attn_q.weight`, [spec.hidden, spec.hidden], 'matrix'],
      [`${blk}.attn_k.weight`, [spec.hidden, kvWidth], 'matrix'],
      [`${blk}.attn_v.weight`, [spec.hidden, kvWidth], 'matrix'],
      [`${blk}.attn_output.weight`, [spec.hidden, spec.hidden], 'matrix'],
      [`${blk}.ffn_norm.weight`, [spec.hidden], 'norm'],
      [`${blk}.ffn_gate.weight`, [spec.hidden, spec.ffn], 'matrix'],
      [`${blk}.ffn_up.weight`, [spec.hidden, spec.ffn], 'matrix'],
      [`${blk}.ffn_down.weight`, [spec.ffn, spec.hidden], 'matrix'],
    );
  }
  shapes.push(['output_norm.weight', [spec.hidden], 'norm'], ['output.weight', [spec.hidden, spec.vocab], 'matrix']);

  return shapes.map(([name, dims, kind], index) => {
    const seed = tensorSeed(spec.seed, index);
    const count = dims.reduce((a, b) => a * b, 1);
    // ggml contracts matrices over ne[0]: 1/sqrt(fan-in) keeps activations and logits near unit scale.
    const bound = 1 / Math.sqrt(dims[0]!);
    if (kind === 'norm') return { name, dims, type: GgmlType.F32, chunks: () => normChunks(count, seed) };
    if (type === GgmlType.F16) return { name, dims, type, chunks: () => f16Chunks(count, bound, seed) };
    return { name, dims, type, chunks: () => q8Chunks(count, bound, seed) };
  });
}

function validate(spec: SyntheticLlamaSpec): void {
  const fail = (why: string): never => {
    throw new HearthError('synthetic-spec', `Synthetic model "${spec.name}": ${why}.`);
  };
  for (const key of ['layers', 'hidden', 'ffn', 'heads', 'kvHeads', 'vocab', 'contextLength'] as const) {
    if (!Number.isInteger(spec[key]) || spec[key] <= 0) fail(`${key} must be a positive integer, got ${spec[key]}`);
  }
  if (spec.vocab < MIN_VOCAB_SIZE) fail(`vocab must be at least ${MIN_VOCAB_SIZE}`);
  if (spec.hidden % spec.heads !== 0) fail('hidden must be a multiple of heads');
  if (spec.heads % spec.kvHeads !== 0) fail('heads must be a multiple of kvHeads');
  if (spec.type === 'Q8_0' && (spec.hidden % 32 !== 0 || spec.ffn % 32 !== 0)) {
    fail('Q8_0 needs hidden and ffn to be multiples of 32 (its block size)');
  }
}

/** Independent stream per tensor, so one tensor's contents never depend on another's size. */
function tensorSeed(seed: number, index: number): number {
  return splitmix32((seed >>> 0) ^ Math.imul(index + 1, 0x9e3779b9));
}

function splitmix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** xorshift128: fills whole arrays in one tight loop, which is what makes 100 MB take well under a second. */
class Xorshift128 {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    this.a = splitmix32(seed);
    this.b = splitmix32(this.a);
    this.c = splitmix32(this.b);
    this.d = splitmix32(this.c) | 1; // the all-zero state is a fixed point
  }

  fill(out: Uint32Array): void {
    let { a, b, c, d } = this;
    for (let i = 0; i < out.length; i++) {
      const t = a ^ (a << 11);
      a = b;
      b = c;
      c = d;
      d = d ^ (d >>> 19) ^ t ^ (t >>> 8);
      out[i] = d;
    }
    this.a = a;
    this.b = b;
    this.c = c;
    this.d = d;
  }
}

function* normChunks(count: number, seed: number): Generator<Uint8Array> {
  // 1.0 with a little noise: RMS-norm weights of a trained model sit around 1.
  const random = new Uint32Array(count);
  new Xorshift128(seed).fill(random);
  const values = Float32Array.from(random, (r) => 1 + (r / 2 ** 32 - 0.5) * 0.02);
  yield new Uint8Array(values.buffer);
}

/** F16 weights uniform in [-bound, bound]: 16 random bits index a table of half-precision bit patterns. */
function* f16Chunks(count: number, bound: number, seed: number): Generator<Uint8Array> {
  const table = new Uint16Array(65536);
  for (let i = 0; i < 65536; i++) table[i] = halfBits((((i + 0.5) / 65536) * 2 - 1) * bound);
  const rng = new Xorshift128(seed);
  const random = new Uint32Array(CHUNK_ELEMENTS / 2);
  const out = new Uint16Array(CHUNK_ELEMENTS);
  for (let done = 0; done < count; done += CHUNK_ELEMENTS) {
    rng.fill(random);
    for (let i = 0; i < random.length; i++) {
      const r = random[i]!;
      out[2 * i] = table[r & 0xffff]!;
      out[2 * i + 1] = table[r >>> 16]!;
    }
    const n = Math.min(CHUNK_ELEMENTS, count - done);
    yield new Uint8Array(out.buffer, 0, n * 2);
  }
}

/** Q8_0 blocks (ggml-common.h block_q8_0): an f16 scale then 32 int8; value = scale * q. */
function* q8Chunks(count: number, bound: number, seed: number): Generator<Uint8Array> {
  const scale = halfBits(bound / 127);
  const rng = new Xorshift128(seed);
  const random = new Uint32Array(CHUNK_ELEMENTS / 4);
  const quants = new Uint8Array(random.buffer);
  const out = new Uint8Array((CHUNK_ELEMENTS / 32) * 34);
  for (let done = 0; done < count; done += CHUNK_ELEMENTS) {
    rng.fill(random);
    const blocks = Math.min(CHUNK_ELEMENTS, count - done) / 32;
    for (let b = 0; b < blocks; b++) {
      out[b * 34] = scale & 0xff;
      out[b * 34 + 1] = scale >>> 8;
      out.set(quants.subarray(b * 32, b * 32 + 32), b * 34 + 2);
    }
    yield out.subarray(0, blocks * 34);
  }
}

const f32 = new Float32Array(1);
const f32Bits = new Uint32Array(f32.buffer);

/** IEEE half-precision bits of `value`, rounded to nearest even (Node 20 has no Float16Array). */
function halfBits(value: number): number {
  f32[0] = value;
  const x = f32Bits[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half: shift the full significand down; too small rounds to zero.
    if (e < -10) return sign;
    const shift = 14 - e;
    const full = mant | 0x800000;
    const half = 1 << (shift - 1);
    const rem = full & ((1 << shift) - 1);
    let h = full >>> shift;
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++; // a carry into the exponent is still correct
  return sign | h;
}
