// A GGUF file's header, its metadata and tensor table, read as llama.cpp's gguf.cpp lays them out.
// Long arrays are stepped over, not decoded: planning needs only the length of a tokenizer's
// tokens, scores and merges (32 000 to 256 000 entries, hundreds of thousands of strings), and
// decoding them every time a model is opened cost node-llama-cpp's reader a quarter of a second
// on the smallest vocabulary, its own loading as much again.
import { open, type FileHandle } from 'node:fs/promises';

/** GGUF value types (gguf.h `gguf_type`). */
const GGUF_TYPE = { uint8: 0, int8: 1, uint16: 2, int16: 3, uint32: 4, int32: 5, float32: 6, bool: 7, string: 8, array: 9, uint64: 10, int64: 11, float64: 12 } as const;
const FIXED_BYTES: Readonly<Record<number, number>> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };

/** Arrays of numbers up to this length are kept whole (per-layer hyperparameters); longer ones and arrays of strings only by their length. */
export const KEPT_ARRAY_LENGTH = 4096;
/** gguf.cpp's default when `general.alignment` is absent. */
const DEFAULT_ALIGNMENT = 32;
/** GGML_MAX_DIMS. */
const MAX_DIMENSIONS = 4;
const CHUNK_BYTES = 256 * 1024;
const MAX_TENSORS = 1_000_000n;
const MAX_METADATA_ENTRIES = 1_000_000n;
/** Numbers kept from arrays in all; past this, arrays are stepped over too (memory stays bounded on a hostile header). */
const MAX_KEPT_ELEMENTS = 1_000_000;
const MAX_STRING_BYTES = 64 * 1024 * 1024;

/** An array the reader stepped over: only its length is known. */
export interface SkippedArray {
  skipped: true;
  length: number;
}

/** One metadata value; 64-bit integers are numbers when they fit exactly, bigints otherwise. */
export type GgufValue = number | bigint | string | boolean | GgufValue[] | SkippedArray;

/** One entry of the tensor table. */
export interface GgufTensorInfo {
  name: string;
  ggmlType: number;
  dimensions: number[];
  /** Absolute offset of its data in the file. */
  fileOffset: number;
}

/** What the header says. */
export interface GgufHeader {
  version: number;
  metadata: ReadonlyMap<string, GgufValue>;
  tensors: GgufTensorInfo[];
  /** Where the tensor data begins (after the table, aligned). */
  dataOffset: number;
}

/** Why a file's header could not be read, said of the file ("is not a GGUF file…"). */
export class GgufHeaderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GgufHeaderError';
  }
}

/** Read the header of the GGUF file at `filePath` (`fileBytes` long). */
export async function readGgufHeader(filePath: string, fileBytes: number): Promise<GgufHeader> {
  const handle = await open(filePath, 'r');
  try {
    return await new HeaderReader(handle, fileBytes).read();
  } finally {
    await handle.close();
  }
}

/** A metadata value when it is a string. */
export function metadataString(header: GgufHeader, key: string): string | undefined {
  const value = header.metadata.get(key);
  return typeof value === 'string' ? value : undefined;
}

/** A metadata value when it is a number. */
export function metadataNumber(header: GgufHeader, key: string): number | undefined {
  const value = header.metadata.get(key);
  return typeof value === 'number' ? value : undefined;
}

/** The length of an array value, or undefined when the value is not an array. */
export function arrayLength(value: GgufValue | undefined): number | undefined {
  if (Array.isArray(value)) return value.length;
  return typeof value === 'object' && value !== null && 'skipped' in value ? value.length : undefined;
}

/** Sequential reads of the header through a buffer refilled from the file as the position passes its end. */
class HeaderReader {
  readonly #handle: FileHandle;
  readonly #fileBytes: number;
  #buffer = Buffer.alloc(CHUNK_BYTES);
  /** File offset of #buffer[0], and how many bytes of it are valid. */
  #bufferAt = 0;
  #bufferBytes = 0;
  #position = 0;
  /** Array elements decoded so far. */
  #kept = 0;

  constructor(handle: FileHandle, fileBytes: number) {
    this.#handle = handle;
    this.#fileBytes = fileBytes;
  }

  async read(): Promise<GgufHeader> {
    await this.#need(Math.min(24, this.#fileBytes));
    if (this.#bufferBytes < 4 || this.#buffer.toString('latin1', 0, 4) !== 'GGUF') throw new GgufHeaderError('is not a GGUF file (it does not start with the GGUF magic bytes)');
    if (this.#bufferBytes < 24) throw new GgufHeaderError(`the file is truncated: ${this.#fileBytes} bytes is shorter than a GGUF header`);
    this.#position = 4;
    const version = this.#u32();
    // Version 1 counted in 32 bits; llama.cpp no longer reads it.
    if (version !== 2 && version !== 3) throw new GgufHeaderError(`uses GGUF version ${version}; llama.cpp reads versions 2 and 3`);
    const tensorCount = this.#u64();
    const metadataCount = this.#u64();
    // Far above any real model, and the smallest entry is 12 bytes of key length and type, the
    // smallest tensor 8 + 4 + 8 + 4 + 8: a count past these is a damaged or hostile header.
    if (tensorCount > MAX_TENSORS || metadataCount > MAX_METADATA_ENTRIES || metadataCount * 12n + tensorCount * 32n > BigInt(this.#fileBytes)) {
      throw new GgufHeaderError(`the header is damaged: it announces ${tensorCount} tensors and ${metadataCount} metadata entries, more than ${this.#fileBytes} bytes can hold`);
    }
    const metadata = new Map<string, GgufValue>();
    for (let i = 0n; i < metadataCount; i++) {
      const key = await this.#string();
      await this.#need(4);
      metadata.set(key, await this.#value(this.#u32(), key));
    }
    const tensors: GgufTensorInfo[] = [];
    const offsets: bigint[] = [];
    for (let i = 0n; i < tensorCount; i++) {
      const name = await this.#string();
      await this.#need(4);
      const count = this.#u32();
      if (count < 1 || count > MAX_DIMENSIONS) throw new GgufHeaderError(`the header is damaged: tensor ${name} has ${count} dimensions (ggml has 1 to ${MAX_DIMENSIONS})`);
      await this.#need(count * 8 + 12);
      const dimensions = Array.from({ length: count }, () => this.#count(`a dimension of tensor ${name}`));
      const ggmlType = this.#u32();
      offsets.push(this.#u64());
      tensors.push({ name, ggmlType, dimensions, fileOffset: 0 });
    }
    const alignment = metadata.get('general.alignment') ?? DEFAULT_ALIGNMENT;
    if (typeof alignment !== 'number' || !Number.isInteger(alignment) || alignment < 1 || alignment > 2 ** 30 || (alignment & (alignment - 1)) !== 0) throw new GgufHeaderError(`the header is damaged: general.alignment is ${String(alignment)}, not a power of two`);
    const dataOffset = Math.ceil(this.#position / alignment) * alignment;
    tensors.forEach((tensor, i) => (tensor.fileOffset = this.#safe(BigInt(dataOffset) + offsets[i]!, `the offset of tensor ${tensor.name}`)));
    return { version, metadata, tensors, dataOffset };
  }

  async #value(type: number, key: string): Promise<GgufValue> {
    if (type === GGUF_TYPE.string) return this.#string();
    if (type === GGUF_TYPE.array) {
      await this.#need(12);
      const elementType = this.#u32();
      const length = this.#count(`the length of ${key}`);
      if (elementType === GGUF_TYPE.array) throw new GgufHeaderError(`the header is damaged: ${key} is an array of arrays, which GGUF does not allow`);
      // Every element takes a byte at least (a string 8, its length).
      const least = elementType === GGUF_TYPE.string ? 8 : FIXED_BYTES[elementType] ?? 1;
      if (length * least > this.#fileBytes - this.#position) throw new GgufHeaderError(`the file is truncated inside its header (${key} announces ${length} values, more than the ${this.#fileBytes - this.#position} bytes left hold)`);
      if (elementType !== GGUF_TYPE.string && length <= KEPT_ARRAY_LENGTH && this.#kept + length <= MAX_KEPT_ELEMENTS) {
        this.#kept += length;
        const values: GgufValue[] = [];
        for (let i = 0; i < length; i++) values.push(await this.#value(elementType, key));
        return values;
      }
      await this.#stepOver(elementType, length, key);
      return { skipped: true, length };
    }
    const bytes = FIXED_BYTES[type];
    if (bytes === undefined) throw new GgufHeaderError(`the header is damaged: ${key} has value type ${type}, which GGUF does not define`);
    await this.#need(bytes);
    return this.#fixed(type);
  }

  /** Move past `length` values of `elementType` without decoding them. */
  async #stepOver(elementType: number, length: number, key: string): Promise<void> {
    const bytes = FIXED_BYTES[elementType];
    if (bytes !== undefined) return this.#skip(length * bytes);
    if (elementType !== GGUF_TYPE.string) throw new GgufHeaderError(`the header is damaged: ${key} holds values of type ${elementType}, which GGUF does not define`);
    // One tight loop over what the buffer holds: a vocabulary is a hundred thousand strings, and
    // the header is read once per command, before the code is warm.
    for (let i = 0; i < length;) {
      await this.#need(8);
      const b = this.#buffer;
      const end = this.#bufferBytes;
      let at = this.#position - this.#bufferAt;
      for (; i < length && at + 8 <= end; i++) {
        const high = b.readUInt32LE(at + 4);
        if (high >= 2 ** 21) throw new GgufHeaderError(`the header is damaged: a string of ${key} is longer than any real file`);
        at += 8 + high * 2 ** 32 + b.readUInt32LE(at);
      }
      this.#skip(this.#bufferAt + at - this.#position);
    }
  }

  #fixed(type: number): number | bigint | boolean {
    const at = this.#position - this.#bufferAt;
    this.#position += FIXED_BYTES[type]!;
    const b = this.#buffer;
    switch (type) {
      case GGUF_TYPE.uint8: return b.readUInt8(at);
      case GGUF_TYPE.int8: return b.readInt8(at);
      case GGUF_TYPE.uint16: return b.readUInt16LE(at);
      case GGUF_TYPE.int16: return b.readInt16LE(at);
      case GGUF_TYPE.uint32: return b.readUInt32LE(at);
      case GGUF_TYPE.int32: return b.readInt32LE(at);
      case GGUF_TYPE.float32: return b.readFloatLE(at);
      case GGUF_TYPE.bool: return b.readUInt8(at) !== 0;
      case GGUF_TYPE.uint64: return exact(b.readBigUInt64LE(at));
      case GGUF_TYPE.int64: return exact(b.readBigInt64LE(at));
      default: return b.readDoubleLE(at);
    }
  }

  async #string(): Promise<string> {
    await this.#need(8);
    const length = this.#count('a string length');
    // A chat template runs to tens of kilobytes; a string this long is a damaged length.
    if (length > MAX_STRING_BYTES) throw new GgufHeaderError(`the header is damaged: it holds a string of ${length} bytes`);
    await this.#need(length);
    const at = this.#position - this.#bufferAt;
    this.#position += length;
    return this.#buffer.toString('utf8', at, at + length);
  }

  #u32(): number {
    const value = this.#buffer.readUInt32LE(this.#position - this.#bufferAt);
    this.#position += 4;
    return value;
  }

  /** A u64 that must be a safe integer (a count, length or size): read as two halves, since BigInt reads are slow over a vocabulary's hundred thousand strings. */
  #count(what: string): number {
    const at = this.#position - this.#bufferAt;
    const low = this.#buffer.readUInt32LE(at);
    const high = this.#buffer.readUInt32LE(at + 4);
    this.#position += 8;
    if (high >= 2 ** 21) throw new GgufHeaderError(`the header is damaged: ${what} is ${(BigInt(high) << 32n) | BigInt(low)}, past any real file`);
    return high * 2 ** 32 + low;
  }

  #u64(): bigint {
    const value = this.#buffer.readBigUInt64LE(this.#position - this.#bufferAt);
    this.#position += 8;
    return value;
  }

  #skip(bytes: number): void {
    this.#position += bytes;
    if (this.#position > this.#fileBytes) throw this.#truncated(this.#position);
  }

  #buffered(bytes: number): boolean {
    return this.#position >= this.#bufferAt && this.#position + bytes <= this.#bufferAt + this.#bufferBytes;
  }

  /** Make the next `bytes` bytes readable from the buffer. */
  async #need(bytes: number): Promise<void> {
    if (this.#buffered(bytes)) return;
    if (this.#position + bytes > this.#fileBytes) throw this.#truncated(this.#position + bytes);
    if (bytes > this.#buffer.length) this.#buffer = Buffer.alloc(bytes);
    const { bytesRead } = await this.#handle.read(this.#buffer, 0, Math.min(this.#buffer.length, this.#fileBytes - this.#position), this.#position);
    this.#bufferAt = this.#position;
    this.#bufferBytes = bytesRead;
    if (bytesRead < bytes) throw new GgufHeaderError(`the file is truncated inside its header (it grew shorter while being read: ${this.#position + bytesRead} bytes)`);
  }

  #truncated(needs: number): GgufHeaderError {
    return new GgufHeaderError(`the file is truncated inside its header (${this.#fileBytes} bytes; the header alone needs ${needs})`);
  }

  #safe(value: bigint, what: string): number {
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new GgufHeaderError(`the header is damaged: ${what} is ${value}, past any real file`);
    return Number(value);
  }
}

function exact(value: bigint): number | bigint {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}
