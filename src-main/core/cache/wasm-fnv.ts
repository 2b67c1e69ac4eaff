// FNV-1a 64 of one byte stream through the WebAssembly module the manifest hashes with (its
// `update1`): 0.77 GB/s against 0.21-0.38 for the JS `Fnv1a64`, whose 16-bit limbs exist only
// because JS has no 64-bit multiply. The worker hashes every entry it receives or fills, so this is
// most of a pre-warm's CPU. `Fnv1a64` stays the plain reference both are tested against.
import { DATA_AT, fnvLanesInstance, LANE_BYTES, STATES_AT, type FnvLanesExports } from '../gguf/manifest/fnv-lanes-wasm.js';

let shared: { exports: FnvLanesExports; bytes: Uint8Array; view: DataView } | undefined;

// One instance per thread: each update runs to its end synchronously, so hashers never interleave in it.
function instance(): NonNullable<typeof shared> {
  if (!shared) {
    const exports = fnvLanesInstance();
    shared = { exports, bytes: new Uint8Array(exports.memory.buffer), view: new DataView(exports.memory.buffer) };
  }
  return shared;
}

const OFFSET_BASIS = 0xcbf29ce484222325n;

/** FNV-1a 64, as llama.cpp names its cache files (ggml-rpc.cpp `fnv_hash`); the same results as `Fnv1a64`. */
export class WasmFnv1a64 {
  #state = OFFSET_BASIS;

  /** Feed the next bytes; chunk boundaries never change the result. */
  update(bytes: Uint8Array): this {
    const { exports, bytes: memory, view } = instance();
    view.setBigUint64(STATES_AT, this.#state, true);
    for (let at = 0; at < bytes.length; at += LANE_BYTES) {
      const part = bytes.subarray(at, at + LANE_BYTES);
      memory.set(part, DATA_AT);
      exports.update1(STATES_AT, DATA_AT, part.length);
    }
    this.#state = view.getBigUint64(STATES_AT, true);
    return this;
  }

  /** The hash so far as 16 lowercase hex digits (llama.cpp's `%016" PRIx64`). */
  digestHex(): string {
    return this.#state.toString(16).padStart(16, '0');
  }

  /** A hash that continues from a `digestHex()` (a resumable upload's checkpoint): FNV-1a's state is its digest so far. */
  static resume(state: string): WasmFnv1a64 {
    if (!/^[0-9a-f]{16}$/.test(state)) throw new RangeError(`An FNV-1a 64 state is 16 lowercase hex digits, got ${JSON.stringify(state.slice(0, 40))}`);
    const fnv = new WasmFnv1a64();
    fnv.#state = BigInt(`0x${state}`);
    return fnv;
  }
}
