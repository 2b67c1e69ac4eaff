// FNV-1a 64 over four byte streams at once (or one), as a hand-encoded WebAssembly module.
//
// Why this route (measured on this 2-core EPYC over bytes in memory): one FNV-1a stream is bound by its
// xor → 64-bit multiply chain, about 4 cycles a byte whatever the language (0.77 GB/s in wasm,
// 0.21 GB/s for the JS `Fnv1a64`, whose 16-bit limbs exist only because JS has no 64-bit
// multiply). Unrolling does not help a latency-bound loop, but four independent streams (four
// tensors) keep the multiplier busy every cycle: 3.1 GB per CPU-second, four times upstream's
// byte-wise loop, every hash still exactly ggml-rpc.cpp's `fnv_hash`. More lanes gain nothing.

import { compileModule, name, section, uleb } from '../../wasm/wasm-encoding.js';

/** Streams hashed side by side by one call of `update4`. */
export const LANES = 4;
/** Bytes of input each lane takes per call: few read calls, and the four lanes' 1 MiB is still in cache when hashed. */
export const LANE_BYTES = 256 * 1024;
/** Where the lanes' running hashes sit (4 × u64, little-endian) in the module's memory. */
export const STATES_AT = 0;
/** A second set of states, for the probes. */
export const PROBE_STATES_AT = 32;
/** Lane k's input starts at DATA_AT + k * LANE_BYTES. */
export const DATA_AT = 65536;

// The memarg offsets below (0, 0x40000, 0x80000, 0xc0000) encode k * LANE_BYTES.
const LANE_OFFSETS = [[0x00], [0x80, 0x80, 0x10], [0x80, 0x80, 0x20], [0x80, 0x80, 0x30]] as const;
if (LANE_BYTES !== 0x40000 || LANE_OFFSETS.length !== LANES) throw new Error('fnv-lanes-wasm: the lane layout and its encoding disagree');

const PRIME = [0x42, 0xb3, 0x83, 0x80, 0x80, 0x80, 0x20]; // i64.const 0x100000001b3 (signed LEB128)
const PAGES = (DATA_AT + LANES * LANE_BYTES) / 65536; // 17

/**
 * `update<lanes>(states, data, len)`: for k < lanes, state[k] = fnv1a(state[k], data + k * LANE_BYTES, len),
 * with state[k] the u64 at `states + 8k`. Parameters are locals 0-2; then end (3) and h0.. (4..).
 */
function updateBody(lanes: 1 | 4): number[] {
  const body = [0x02, 0x01, 0x7f, lanes, 0x7e]; // locals: 1 × i32, `lanes` × i64
  for (let k = 0; k < lanes; k++) body.push(0x20, 0x00, 0x29, 0x03, 8 * k, 0x21, 4 + k); // h_k = i64.load offset=8k (states)
  body.push(0x20, 0x01, 0x20, 0x02, 0x6a, 0x21, 0x03); // end = data + len
  body.push(0x02, 0x40, 0x03, 0x40); // block, loop
  body.push(0x20, 0x01, 0x20, 0x03, 0x4f, 0x0d, 0x01); // if data >= end: break
  for (let k = 0; k < lanes; k++) {
    // h_k = (h_k ^ i64.load8_u offset=k*LANE_BYTES (data)) * prime
    body.push(0x20, 4 + k, 0x20, 0x01, 0x31, 0x00, ...LANE_OFFSETS[k]!, 0x85, ...PRIME, 0x7e, 0x21, 4 + k);
  }
  body.push(0x20, 0x01, 0x41, 0x01, 0x6a, 0x21, 0x01); // data += 1
  body.push(0x0c, 0x00, 0x0b, 0x0b); // continue; end loop, end block
  for (let k = 0; k < lanes; k++) body.push(0x20, 0x00, 0x20, 4 + k, 0x37, 0x03, 8 * k); // i64.store offset=8k (states, h_k)
  body.push(0x0b);
  return body;
}

/**
 * The module's bytes: one memory of 17 pages ("memory"), `update4` (four lanes) and `update1` (lane 0
 * only: a lone stream runs faster alone than as one of four, since four saturate the multiplier).
 */
function fnvLanesWasm(): Uint8Array {
  const bodies = [updateBody(4), updateBody(1)];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
    ...section(1, [0x01, 0x60, 0x03, 0x7f, 0x7f, 0x7f, 0x00]), // types: (i32, i32, i32) -> ()
    ...section(3, [0x02, 0x00, 0x00]), // functions: two, both of type 0
    ...section(5, [0x01, 0x00, PAGES]), // memories: one, at least 17 pages, no maximum
    ...section(7, [0x03, ...name('memory'), 0x02, 0x00, ...name('update4'), 0x00, 0x00, ...name('update1'), 0x00, 0x01]), // exports
    ...section(10, [0x02, ...bodies.flatMap((body) => [...uleb(body.length), ...body])]), // code
  ]);
}

/** What an instance of the module offers (see `updateBody` for the functions). */
export interface FnvLanesExports {
  memory: { buffer: ArrayBuffer };
  update4(states: number, data: number, length: number): void;
  update1(states: number, data: number, length: number): void;
}

let compiled: object | undefined;

/** The compiled module (compiled once per process); worker threads receive it in their workerData and instantiate their own copy. */
export function fnvLanesModule(): object {
  compiled ??= compileModule(fnvLanesWasm());
  return compiled;
}
