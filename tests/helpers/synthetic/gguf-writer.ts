// A minimal GGUF v3 writer: header and metadata built in memory (small), tensor data streamed
// tensor by tensor so a model of any size never sits in memory. Layout rules follow upstream
// ggml/src/gguf.cpp: every tensor offset is relative to the data section and padded to
// `general.alignment`, and the reader rejects offsets that are not exactly where it expects.
import { open, rename, rm } from 'node:fs/promises';
import { endianness } from 'node:os';
import { tensorByteSize } from '../../../src-main/core/gguf/ggml-types.js';

/** ggml tensor types this writer knows the byte size of (values from ggml.h `enum ggml_type`). */
export const GgmlType = { F32: 0, F16: 1, Q8_0: 8 } as const;
/** One of the ggml tensor type ids in `GgmlType`. */
export type GgmlType = (typeof GgmlType)[keyof typeof GgmlType];

/** A typed GGUF metadata value; the type decides the on-disk encoding (llama.cpp checks it strictly). */
export type GgufValue =
  | { type: 'uint32'; value: number }
  | { type: 'int32'; value: number }
  | { type: 'uint64'; value: bigint }
  | { type: 'float32'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | { type: 'string[]'; value: readonly string[] }
  | { type: 'float32[]'; value: ArrayLike<number> }
  | { type: 'int32[]'; value: ArrayLike<number> };

/** A tensor to write: its shape in ggml order (ne[0] first) and a producer of its bytes. */
export interface GgufTensor {
  name: string;
  dims: readonly number[];
  type: GgmlType;
  /** Yields the tensor's bytes in order; each chunk is written before the next is asked for, so a producer may reuse one buffer. */
  chunks(): Iterable<Uint8Array> | AsyncIterable<Uint8Array>;
}

/** What `writeGguf` wrote. */
export interface GgufWriteResult {
  bytes: number;
  dataOffset: number;
}

const ALIGNMENT = 32;
const GGUF_VERSION = 3;
const utf8 = new TextEncoder();
// gguf_type ids from ggml/include/gguf.h.
const T = { UINT32: 4, INT32: 5, FLOAT32: 6, BOOL: 7, STRING: 8, ARRAY: 9, UINT64: 10 } as const;

/** Bytes a tensor of this type and shape occupies (before alignment padding). */
function byteSize(tensor: Pick<GgufTensor, 'name' | 'type' | 'dims'>): number {
  const size = tensorByteSize(tensor.type, tensor.dims);
  if (size === undefined) throw new Error(`tensor ${tensor.name}: shape [${tensor.dims.join(', ')}] does not fit ggml type ${tensor.type}`);
  return size;
}

/** Writes a GGUF file to `filePath` (via a temporary name, renamed into place only when complete). */
export async function writeGguf(
  filePath: string,
  content: { metadata: ReadonlyArray<readonly [string, GgufValue]>; tensors: readonly GgufTensor[] },
): Promise<GgufWriteResult> {
  // Tensor producers fill typed arrays in host byte order; GGUF is little-endian.
  if (endianness() !== 'LE') throw new Error('the synthetic GGUF writer supports little-endian hosts only');
  const header = encodeHeader(content.metadata, content.tensors);
  const partial = `${filePath}.partial`;
  const file = await open(partial, 'w');
  try {
    let position = 0;
    const put = async (bytes: Uint8Array): Promise<void> => {
      let done = 0;
      while (done < bytes.length) {
        const { bytesWritten } = await file.write(bytes, done, bytes.length - done, position + done);
        done += bytesWritten;
      }
      position += bytes.length;
    };
    await put(header);
    const dataOffset = position;
    for (const tensor of content.tensors) {
      const expected = byteSize(tensor);
      let written = 0;
      for await (const chunk of tensor.chunks()) {
        written += chunk.length;
        if (written > expected) throw new Error(`tensor ${tensor.name} produced more than its ${expected} bytes`);
        await put(chunk);
      }
      if (written !== expected) throw new Error(`tensor ${tensor.name} produced ${written} of its ${expected} bytes`);
      await put(new Uint8Array(padding(written)));
    }
    await file.close();
    await rename(partial, filePath);
    return { bytes: position, dataOffset };
  } catch (error) {
    await file.close().catch(() => undefined);
    await rm(partial, { force: true });
    throw error;
  }
}

function assertUnique(names: readonly string[], what: string): void {
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) throw new Error(`duplicate ${what} "${name}"`);
    seen.add(name);
  }
}

function padding(size: number): number {
  return (ALIGNMENT - (size % ALIGNMENT)) % ALIGNMENT;
}

function encodeHeader(metadata: ReadonlyArray<readonly [string, GgufValue]>, tensors: readonly GgufTensor[]): Uint8Array {
  const kvs = metadata.filter(([key]) => key !== 'general.alignment');
  // llama.cpp's reader rejects a file with a repeated key or tensor name; fail here, with the name.
  assertUnique(kvs.map(([key]) => key), 'metadata key');
  assertUnique(tensors.map((t) => t.name), 'tensor name');
  const out = new ByteBuilder();
  out.raw(utf8.encode('GGUF'));
  out.u32(GGUF_VERSION);
  out.u64(BigInt(tensors.length));
  out.u64(BigInt(kvs.length + 1));
  // Always declared (and always 32, whatever the caller passed), so readers never depend on a default.
  out.str('general.alignment');
  out.u32(T.UINT32);
  out.u32(ALIGNMENT);
  for (const [key, value] of kvs) {
    out.str(key);
    encodeValue(out, value);
  }
  let offset = 0;
  for (const tensor of tensors) {
    out.str(tensor.name);
    out.u32(tensor.dims.length);
    for (const dim of tensor.dims) out.u64(BigInt(dim));
    out.u32(tensor.type);
    out.u64(BigInt(offset));
    const size = byteSize(tensor);
    offset += size + padding(size);
  }
  out.raw(new Uint8Array(padding(out.length)));
  return out.bytes();
}

function encodeValue(out: ByteBuilder, v: GgufValue): void {
  switch (v.type) {
    case 'uint32':
      out.u32(T.UINT32);
      out.u32(v.value);
      break;
    case 'int32':
      out.u32(T.INT32);
      out.i32(v.value);
      break;
    case 'uint64':
      out.u32(T.UINT64);
      out.u64(v.value);
      break;
    case 'float32':
      out.u32(T.FLOAT32);
      out.f32(v.value);
      break;
    case 'bool':
      out.u32(T.BOOL);
      out.u8(v.value ? 1 : 0);
      break;
    case 'string':
      out.u32(T.STRING);
      out.str(v.value);
      break;
    case 'string[]':
      out.arrayHeader(T.STRING, v.value.length);
      for (const s of v.value) out.str(s);
      break;
    case 'float32[]':
      out.arrayHeader(T.FLOAT32, v.value.length);
      for (let i = 0; i < v.value.length; i++) out.f32(v.value[i]!);
      break;
    case 'int32[]':
      out.arrayHeader(T.INT32, v.value.length);
      for (let i = 0; i < v.value.length; i++) out.i32(v.value[i]!);
      break;
  }
}

/** A growable little-endian byte buffer for the header. */
class ByteBuilder {
  private buf = new Uint8Array(4096);
  private view = new DataView(this.buf.buffer);
  length = 0;

  // Call before touching this.buf/this.view: growing replaces both.
  private reserve(n: number): number {
    if (this.length + n > this.buf.length) {
      const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
      next.set(this.buf.subarray(0, this.length));
      this.buf = next;
      this.view = new DataView(next.buffer);
    }
    const at = this.length;
    this.length += n;
    return at;
  }

  u8(v: number): void {
    const at = this.reserve(1);
    this.view.setUint8(at, v);
  }
  u32(v: number): void {
    const at = this.reserve(4);
    this.view.setUint32(at, v, true);
  }
  i32(v: number): void {
    const at = this.reserve(4);
    this.view.setInt32(at, v, true);
  }
  f32(v: number): void {
    const at = this.reserve(4);
    this.view.setFloat32(at, v, true);
  }
  u64(v: bigint): void {
    const at = this.reserve(8);
    this.view.setBigUint64(at, v, true);
  }
  raw(bytes: Uint8Array): void {
    const at = this.reserve(bytes.length);
    this.buf.set(bytes, at);
  }
  arrayHeader(elementType: number, count: number): void {
    this.u32(T.ARRAY);
    this.u32(elementType);
    this.u64(BigInt(count));
  }
  str(s: string): void {
    const bytes = utf8.encode(s);
    this.u64(BigInt(bytes.length));
    this.raw(bytes);
  }
  bytes(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}
