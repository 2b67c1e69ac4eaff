// Streaming checksums for tensor cache entries, in plain 32-bit JS arithmetic: BigInt in a
// per-byte loop is about 20x slower (29 MB/s), and entries are hundreds of MiB.

/** FNV-1a 64-bit, as llama.cpp names its cache files (ggml/src/ggml-rpc/ggml-rpc.cpp `fnv_hash`), in plain JS: the reference the tests check the WebAssembly hashes against, and the benchmark's baseline. The worker hashes with `EntryChecksums` (entry-checksums.ts), 2-4x faster. */
export class Fnv1a64 {
  // The 64-bit state: a signed 32-bit high half and the low half as two 16-bit limbs, so every
  // product stays a small integer (3x faster than one 32-bit low half with a float carry).
  // The start is the offset basis 0xcbf29ce484222325.
  private hi = 0xcbf29ce4 | 0;
  private l1 = 0x8422;
  private l0 = 0x2325;

  /** Feed the next bytes; chunk boundaries never change the result. */
  update(bytes: Uint8Array): this {
    let hi = this.hi;
    let l1 = this.l1;
    let l0 = this.l0;
    for (let i = 0; i < bytes.length; i++) {
      l0 ^= bytes[i]!;
      // The prime is 2^40 + 0x1b3: state * 0x1b3, plus the low half shifted left by 40 (8 into the high half).
      const t0 = l0 * 0x1b3;
      const t1 = l1 * 0x1b3 + (t0 >>> 16);
      hi = (Math.imul(hi, 0x1b3) + (l1 << 24) + (l0 << 8) + (t1 >>> 16)) | 0;
      l0 = t0 & 0xffff;
      l1 = t1 & 0xffff;
    }
    this.hi = hi;
    this.l1 = l1;
    this.l0 = l0;
    return this;
  }

  /** The hash so far as 16 lowercase hex digits (llama.cpp's `%016" PRIx64`). */
  digestHex(): string {
    return hex8(this.hi) + hex8((this.l1 << 16) | this.l0);
  }

  /** A hash that continues from a `digestHex()` (a resumable upload's checkpoint): FNV-1a's state is its digest so far. */
  static resume(state: string): Fnv1a64 {
    if (!/^[0-9a-f]{16}$/.test(state)) throw new RangeError(`An FNV-1a 64 state is 16 lowercase hex digits, got ${JSON.stringify(state.slice(0, 40))}`);
    const fnv = new Fnv1a64();
    const high = Number.parseInt(state.slice(0, 8), 16);
    const low = Number.parseInt(state.slice(8), 16);
    fnv.hi = high | 0;
    fnv.l1 = low >>> 16;
    fnv.l0 = low & 0xffff;
    return fnv;
  }
}

const TABLES = crc32cTables();

/** CRC-32C (Castagnoli), the checksum in Hearth's `<hash>.check` sidecars, in plain JS: small inputs (a manifest's digest) and the reference for `EntryChecksums`. */
export class Crc32c {
  // Kept pre-inverted (init 0xFFFFFFFF); digest() applies the final xor.
  private crc = 0xffffffff;

  /** Feed the next bytes; chunk boundaries never change the result. */
  update(bytes: Uint8Array): this {
    const t = TABLES;
    let crc = this.crc;
    let i = 0;
    const end8 = bytes.length - (bytes.length % 8);
    for (; i < end8; i += 8) {
      const lo = crc ^ (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24));
      crc =
        t[1792 + (lo & 0xff)]! ^
        t[1536 + ((lo >>> 8) & 0xff)]! ^
        t[1280 + ((lo >>> 16) & 0xff)]! ^
        t[1024 + (lo >>> 24)]! ^
        t[768 + bytes[i + 4]!]! ^
        t[512 + bytes[i + 5]!]! ^
        t[256 + bytes[i + 6]!]! ^
        t[bytes[i + 7]!]!;
    }
    for (; i < bytes.length; i++) crc = t[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
    this.crc = crc;
    return this;
  }

  /** The CRC so far as an unsigned 32-bit number. */
  digest(): number {
    return (this.crc ^ 0xffffffff) >>> 0;
  }

  /** The CRC so far as 8 lowercase hex digits. */
  hex(): string {
    return hex8(this.digest());
  }

  /** A CRC that continues from a `digest()` so far (the register is the digest, inverted). */
  static resume(digest: number): Crc32c {
    if (!Number.isInteger(digest) || digest < 0 || digest > 0xffffffff) throw new RangeError(`A CRC-32C is an unsigned 32-bit integer, got ${digest}`);
    const crc = new Crc32c();
    crc.crc = (digest ^ 0xffffffff) | 0;
    return crc;
  }
}

/** Slice-by-8 tables for CRC-32C (reflected polynomial 0x82f63b78): entry k * 256 + b is the CRC of byte b followed by k zero bytes. */
export function crc32cTables(): Int32Array {
  const poly = 0x82f63b78;
  const tables = new Int32Array(8 * 256);
  for (let b = 0; b < 256; b++) {
    let crc = b;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ poly : crc >>> 1;
    tables[b] = crc;
  }
  for (let k = 1; k < 8; k++) {
    for (let b = 0; b < 256; b++) {
      const prev = tables[(k - 1) * 256 + b]!;
      tables[k * 256 + b] = tables[prev & 0xff]! ^ (prev >>> 8);
    }
  }
  return tables;
}

function hex8(value: number): string {
  return (value >>> 0).toString(16).padStart(8, '0');
}
