// Hearth's GGUF header reader against node-llama-cpp's (an independent reader of the same
// format), on long arrays it steps over, and on headers that are damaged in each way it names.
import { copyFile, stat, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { readGgufFileInfo } from 'node-llama-cpp';
import { describe, expect, it } from 'vitest';
import { arrayLength, GgufHeaderError, KEPT_ARRAY_LENGTH, readGgufHeader } from '../../../src-main/core/gguf/gguf-header.js';
import { writeGguf } from '../../helpers/synthetic/gguf-writer.js';
import { scratchDir, syntheticModel } from '../../helpers/models.js';

const dir = scratchDir('hearth-gguf-header-');

async function read(file: string) {
  return readGgufHeader(file, (await stat(file)).size);
}

/** node-llama-cpp nests `a.b.c` keys into objects: back to GGUF's flat keys. */
function flatten(value: unknown, prefix = '', into = new Map<string, unknown>()): Map<string, unknown> {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    for (const [key, inner] of Object.entries(value)) flatten(inner, prefix ? `${prefix}.${key}` : key, into);
  } else {
    into.set(prefix, value);
  }
  return into;
}

describe('readGgufHeader', () => {
  it.each(['tiny', 'q8'] as const)('reads the %s model as node-llama-cpp does, stepping over the tokenizer\'s long arrays', async (preset) => {
    const file = await syntheticModel(preset);
    const ours = await read(file);
    const theirs = await readGgufFileInfo(file, { sourceType: 'filesystem', logWarnings: false, spliceSplitFiles: false });
    expect(ours.version).toBe(theirs.version);
    const expected = flatten(theirs.metadata);
    expect([...ours.metadata.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [key, value] of ours.metadata) {
      const reference = expected.get(key);
      // Arrays of strings and long ones are stepped over: only their length is kept.
      if (Array.isArray(reference) && (reference.length > KEPT_ARRAY_LENGTH || typeof reference[0] === 'string')) expect(value, key).toEqual({ skipped: true, length: reference.length });
      else expect(value, key).toEqual(reference);
    }
    expect(arrayLength(ours.metadata.get('tokenizer.ggml.tokens'))).toBe(arrayLength(theirs.metadata.tokenizer.ggml.tokens as string[]));
    expect(ours.tensors.map((t) => [t.name, t.ggmlType, t.dimensions, t.fileOffset])).toEqual(
      theirs.tensorInfo!.map((t) => [t.name, t.ggmlType, t.dimensions.map(Number), ours.dataOffset + Number(t.offset)]));
  });

  it('steps over 300 000 strings, keeps short arrays whole and 64-bit values exactly', async () => {
    const file = path.join(dir, 'long-array.gguf');
    const tokens = Array.from({ length: 300_000 }, (_, i) => `t${i}`);
    await writeGguf(file, {
      metadata: [
        ['general.architecture', { type: 'string', value: 'llama' }],
        ['tokenizer.ggml.tokens', { type: 'string[]', value: tokens }],
        ['llama.attention.head_count', { type: 'int32[]', value: [8, 8, 4] }],
        ['test.big', { type: 'uint64', value: 2n ** 60n }],
        ['test.small', { type: 'uint64', value: 7n }],
        ['general.name', { type: 'string', value: 'after the long array' }],
      ],
      tensors: [{ name: 'w', dims: [64, 2], type: 0, chunks: () => [new Uint8Array(512)] }],
    });
    const header = await read(file);
    expect(header.metadata.get('tokenizer.ggml.tokens')).toEqual({ skipped: true, length: 300_000 });
    expect(header.metadata.get('llama.attention.head_count')).toEqual([8, 8, 4]);
    expect(header.metadata.get('test.big')).toBe(2n ** 60n);
    expect(header.metadata.get('test.small')).toBe(7);
    expect(header.metadata.get('general.name')).toBe('after the long array');
    expect(header.tensors).toEqual([{ name: 'w', ggmlType: 0, dimensions: [64, 2], fileOffset: header.dataOffset }]);

    // Cut inside the long array: the reader says where the header needed more.
    const cut = path.join(dir, 'long-array-cut.gguf');
    await copyFile(file, cut);
    await truncate(cut, 1_000_000);
    await expect(read(cut)).rejects.toThrow(/truncated inside its header/);
  });

  describe('refuses a damaged header, saying how', () => {
    const header = (metadata: Buffer[], tensors: Buffer[] = []): Buffer => Buffer.concat([
      Buffer.from('GGUF', 'latin1'), u32(3), u64(tensors.length), u64(metadata.length), ...metadata, ...tensors,
    ]);
    const entry = (key: string, type: number, value: Buffer) => Buffer.concat([str(key), u32(type), value]);
    const cases: [string, Buffer, RegExp][] = [
      ['not GGUF', Buffer.from('GGML and more bytes than a header needs', 'latin1'), /not a GGUF file/],
      ['version 1', Buffer.concat([Buffer.from('GGUF', 'latin1'), u32(1), u64(0), u64(0)]), /version 1/],
      ['an unknown value type', header([entry('a', 13, u32(0))]), /value type 13/],
      ['an array of arrays', header([entry('a', 9, Buffer.concat([u32(9), u64(1)]))]), /array of arrays/],
      ['a string past the end', header([entry('a', 8, u64(1_000_000))]), /truncated inside its header/],
      ['a string longer than any header holds', header([entry('a', 8, u64(2 ** 40))]), /string of 1099511627776 bytes/],
      ['five dimensions', header([], [Buffer.concat([str('t'), u32(5), u64(1), u64(1), u64(1), u64(1), u64(1), u32(0), u64(0)])]), /5 dimensions/],
      ['counts no file could hold', Buffer.concat([Buffer.from('GGUF', 'latin1'), u32(3), u64(2 ** 40), u64(0)]), /announces/],
      ['an array longer than the file', header([entry('a', 9, Buffer.concat([u32(8), u64(2 ** 40)]))]), /announces 1099511627776 values/],
      ['a string in an array with a length past 2^53', header([entry('a', 9, Buffer.concat([u32(8), u64(1), u64(2 ** 60)]))]), /a string of a is longer than any real file/],
      ['a string in an array running past the end', header([entry('a', 9, Buffer.concat([u32(8), u64(2), u64(3), Buffer.from('abc'), u64(1_000_000)]))]), /truncated inside its header/],
      ['an alignment that is not a whole power of two', header([entry('general.alignment', 6, f32(2.5))]), /general\.alignment is 2\.5/],
    ];
    it.each(cases)('%s', async (name, bytes, reason) => {
      const file = path.join(dir, `${name.replaceAll(' ', '-')}.gguf`);
      await writeFile(file, bytes);
      const failure = await read(file).then(() => null, (error: unknown) => error);
      expect(failure).toBeInstanceOf(GgufHeaderError);
      expect((failure as Error).message).toMatch(reason);
    });
  });
});

function u32(value: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32LE(value);
  return bytes;
}

function u64(value: number): Buffer {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64LE(BigInt(value));
  return bytes;
}

function f32(value: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeFloatLE(value);
  return bytes;
}

function str(text: string): Buffer {
  return Buffer.concat([u64(Buffer.byteLength(text)), Buffer.from(text)]);
}
