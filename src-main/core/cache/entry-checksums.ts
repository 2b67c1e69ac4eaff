// Both checksums of a cache entry in one pass over its bytes, as a hand-encoded WebAssembly loop:
// FNV-1a 64 (the entry's name, llama.cpp's `fnv_hash`) and CRC-32C (its `.check` sidecar).
//
// Why one loop: a single FNV-1a stream is bound by its xor → 64-bit multiply chain, about 4 cycles
// a byte (0.75 GB/s here), which leaves the load and xor units idle. A slice-by-8 CRC-32C fits in
// that shadow: measured on this 2-core EPYC, the pair runs at the speed of FNV alone (0.73 GB/s),
// where the JS CRC-32C took as long again (0.7-0.8 GB/s) on every byte a worker receives or fills.
// `Fnv1a64` and `Crc32c` (checksums.ts) stay the plain references both results are tested against.
import { compileModule, instantiate, name, section, sleb, uleb } from '../wasm/wasm-encoding.js';
import { crc32cTables } from './checksums.js';

// Memory layout: the running state, the CRC tables, then one chunk of input.
const STATE_AT = 0; // u64 FNV state, then u32 CRC register (pre-inverted, as in `Crc32c`)
const CRC_AT = STATE_AT + 8;
const TABLES_AT = 1024; // 8 tables × 256 × u32
const DATA_AT = 65536;
const CHUNK_BYTES = 256 * 1024;
const PAGES = (DATA_AT + CHUNK_BYTES) / 65536;

// The instructions used, by name (WebAssembly core spec, section 5.4).
const I32 = 0x7f;
const I64 = 0x7e;
const get = (local: number) => [0x20, local];
const set = (local: number) => [0x21, local];
const i32Const = (value: number) => [0x41, ...sleb(value)];
const i64Const = (value: bigint) => [0x42, ...sleb(value)];
const i32Load = (offset: number) => [0x28, 2, ...uleb(offset)];
const i64Load = (offset: number) => [0x29, 3, ...uleb(offset)];
const i32Load8 = (offset: number) => [0x2d, 0, ...uleb(offset)];
const i64Load8 = (offset: number) => [0x31, 0, ...uleb(offset)];
const i32Store = (offset: number) => [0x36, 2, ...uleb(offset)];
const i64Store = (offset: number) => [0x37, 3, ...uleb(offset)];
const [i32Add, i32And, i32Xor, i32Shl, i32ShrU, i32GeU, i64Xor, i64Mul] = [[0x6a], [0x71], [0x73], [0x74], [0x76], [0x4f], [0x85], [0x7e]];
/** `while (data < end) { body }`, with `data` advanced by `step` after each round. */
const whileBelow = (data: number, end: number, step: number, body: number[]) => [
  0x02, 0x40, 0x03, 0x40, // block, loop
  ...get(data), ...get(end), ...i32GeU, 0x0d, 0x01, // br_if out when data >= end
  ...body,
  ...get(data), ...i32Const(step), ...i32Add, ...set(data),
  0x0c, 0x00, 0x0b, 0x0b, // br loop; end loop, end block
];

// update(state, data, length): parameters are locals 0-2, then these.
const [STATE, DATA, LENGTH, END, LOW, HIGH, CRC, FNV] = [0, 1, 2, 3, 4, 5, 6, 7];
const FNV_PRIME = 0x100000001b3n;

/** fnv = (fnv ^ byte at data + offset) * prime */
const fnvByte = (offset: number) => [...get(FNV), ...get(DATA), ...i64Load8(offset), ...i64Xor, ...i64Const(FNV_PRIME), ...i64Mul, ...set(FNV)];

/** Table k's entry for byte `shift / 8` of local `word`: the byte times 4 is its address. */
const tableLookup = (word: number, shift: number, k: number) => [
  ...get(word), ...(shift === 0 ? [...i32Const(2), ...i32Shl] : [...i32Const(shift - 2), ...i32ShrU]), ...i32Const(0x3fc), ...i32And,
  ...i32Load(TABLES_AT + k * 1024),
];

function updateBody(): number[] {
  // Slice-by-8, as in `Crc32c.update`: the first byte of the eight looks up table 7, the last table 0.
  const crc8 = [
    ...tableLookup(LOW, 0, 7), ...tableLookup(LOW, 8, 6), ...i32Xor, ...tableLookup(LOW, 16, 5), ...i32Xor, ...tableLookup(LOW, 24, 4), ...i32Xor,
    ...tableLookup(HIGH, 0, 3), ...i32Xor, ...tableLookup(HIGH, 8, 2), ...i32Xor, ...tableLookup(HIGH, 16, 1), ...i32Xor, ...tableLookup(HIGH, 24, 0), ...i32Xor,
    ...set(CRC),
  ];
  const eightBytes = [
    ...get(CRC), ...get(DATA), ...i32Load(0), ...i32Xor, ...set(LOW),
    ...get(DATA), ...i32Load(4), ...set(HIGH),
    ...[0, 1, 2, 3, 4, 5, 6, 7].flatMap(fnvByte),
    ...crc8,
  ];
  // crc = table0[(crc ^ byte) & 0xff] ^ (crc >>> 8)
  const oneByte = [
    ...fnvByte(0),
    ...get(CRC), ...get(DATA), ...i32Load8(0), ...i32Xor, ...i32Const(0xff), ...i32And, ...i32Const(2), ...i32Shl, ...i32Load(TABLES_AT),
    ...get(CRC), ...i32Const(8), ...i32ShrU, ...i32Xor, ...set(CRC),
  ];
  return [
    0x02, 0x04, I32, 0x01, I64, // locals: 4 × i32 (end, low, high, crc), 1 × i64 (fnv)
    ...get(STATE), ...i64Load(0), ...set(FNV),
    ...get(STATE), ...i32Load(CRC_AT - STATE_AT), ...set(CRC),
    ...get(DATA), ...get(LENGTH), ...i32Const(-8), ...i32And, ...i32Add, ...set(END),
    ...whileBelow(DATA, END, 8, eightBytes),
    ...get(DATA), ...get(LENGTH), ...i32Const(7), ...i32And, ...i32Add, ...set(END),
    ...whileBelow(DATA, END, 1, oneByte),
    ...get(STATE), ...get(FNV), ...i64Store(0),
    ...get(STATE), ...get(CRC), ...i32Store(CRC_AT - STATE_AT),
    0x0b,
  ];
}

function checksumsWasm(): Uint8Array {
  const body = updateBody();
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
    ...section(1, [0x01, 0x60, 0x03, I32, I32, I32, 0x00]), // types: (i32, i32, i32) -> ()
    ...section(3, [0x01, 0x00]), // functions: one, of type 0
    ...section(5, [0x01, 0x00, PAGES]), // memories: one, no maximum
    ...section(7, [0x02, ...name('memory'), 0x02, 0x00, ...name('update'), 0x00, 0x00]), // exports
    ...section(10, [0x01, ...uleb(body.length), ...body]), // code
  ]);
}

interface ChecksumsExports {
  memory: { buffer: ArrayBuffer };
  update(state: number, data: number, length: number): void;
}

let shared: { update: ChecksumsExports['update']; bytes: Uint8Array; view: DataView } | undefined;

// One instance per thread: each update runs to its end synchronously, so checksums never interleave in it.
function instance(): NonNullable<typeof shared> {
  if (!shared) {
    const exports = instantiate<ChecksumsExports>(compileModule(checksumsWasm()));
    new Int32Array(exports.memory.buffer, TABLES_AT, 8 * 256).set(crc32cTables());
    shared = { update: exports.update, bytes: new Uint8Array(exports.memory.buffer), view: new DataView(exports.memory.buffer) };
  }
  return shared;
}

const FNV_OFFSET_BASIS = 0xcbf29ce484222325n;

/** FNV-1a 64 and CRC-32C of one byte stream; the same results as `Fnv1a64` and `Crc32c`. */
export class EntryChecksums {
  #fnv = FNV_OFFSET_BASIS;
  #crc = 0xffffffff; // the register, pre-inverted

  /** Feed the next bytes; chunk boundaries never change the results. */
  update(bytes: Uint8Array): this {
    const { update, bytes: memory, view } = instance();
    view.setBigUint64(STATE_AT, this.#fnv, true);
    view.setUint32(CRC_AT, this.#crc, true);
    for (let at = 0; at < bytes.length; at += CHUNK_BYTES) {
      const part = bytes.subarray(at, at + CHUNK_BYTES);
      memory.set(part, DATA_AT);
      update(STATE_AT, DATA_AT, part.length);
    }
    this.#fnv = view.getBigUint64(STATE_AT, true);
    this.#crc = view.getUint32(CRC_AT, true);
    return this;
  }

  /** The FNV-1a 64 so far as 16 lowercase hex digits (llama.cpp's `%016" PRIx64`): the entry's name. */
  fnvHex(): string {
    return this.#fnv.toString(16).padStart(16, '0');
  }

  /** The CRC-32C so far, an unsigned 32-bit number (`Crc32c.digest()`). */
  crc32c(): number {
    return (this.#crc ^ 0xffffffff) >>> 0;
  }

  /** Checksums that continue from an interrupted stream's `fnvHex()` and `crc32c()` (a resumable upload's checkpoint). */
  static resume(fnv: string, crc32c: number): EntryChecksums {
    if (!/^[0-9a-f]{16}$/.test(fnv)) throw new RangeError(`An FNV-1a 64 state is 16 lowercase hex digits, got ${JSON.stringify(fnv.slice(0, 40))}`);
    if (!Number.isInteger(crc32c) || crc32c < 0 || crc32c > 0xffffffff) throw new RangeError(`A CRC-32C is an unsigned 32-bit integer, got ${crc32c}`);
    const checksums = new EntryChecksums();
    checksums.#fnv = BigInt(`0x${fnv}`);
    checksums.#crc = (crc32c ^ 0xffffffff) >>> 0;
    return checksums;
  }
}
