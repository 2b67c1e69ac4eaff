// Forging bytes that pass as another tensor's cache entry: any bytes, with their last few changed so
// that their FNV-1a 64 (the entry's name, llama.cpp's `fnv_hash`) is the one wanted. This is what a
// lying peer can do, and why Hearth checks a SHA-256 on everything that crosses machines.
//
// How: FNV-1a's step is h = (h ^ byte) * P mod 2^64. A xor with a byte only changes the low byte of
// h, so it is an addition of d = (low ^ byte) - low, and any d in [-low, 255 - low] is one byte's
// worth. From the state s before the last K bytes, the final state is s * P^K + sum d_i * P^(K-i+1).
// Wanting a final state T is then a linear equation mod 2^64 in small unknowns d_i: a closest vector
// problem, solved here by LLL reduction (exact integer arithmetic) of the usual embedding lattice.
import { Fnv1a64 } from '../../src-main/core/cache/checksums.js';

const P = 0x100000001b3n;
const MOD = 1n << 64n;
/** Bytes solved for: enough that small d_i (about 2^(64/17) = 14) exist. */
const K = 16;
/** Weight of the embedding row and of the modular column (large: the equation must hold exactly). */
const EMBED = 16n;
const SCALE = 1n << 40n;

/**
 * `filler` (at least K + 1 bytes) with its last K bytes replaced so that its FNV-1a 64 is
 * `targetHex`; the byte before them is varied until a solution fits in bytes.
 */
export function forgeFnv1a(targetHex: string, filler: Uint8Array): Buffer {
  if (filler.length <= K) throw new RangeError(`forgeFnv1a needs more than ${K} bytes`);
  const target = BigInt(`0x${targetHex}`);
  const forged = Buffer.from(filler);
  const body = forged.length - K;
  const before = new Fnv1a64().update(forged.subarray(0, body - 1)).digestHex();
  for (let attempt = 0; attempt < 256; attempt++) {
    forged[body - 1] = attempt;
    const state = BigInt(`0x${Fnv1a64.resume(before).update(forged.subarray(body - 1, body)).digestHex()}`);
    const steps = solveSteps(state, target);
    if (steps && writeSteps(forged, body, state, steps) && new Fnv1a64().update(forged).digestHex() === targetHex) return forged;
  }
  throw new Error(`could not forge bytes with FNV-1a ${targetHex}`);
}

/** Small d_1..d_K with sum d_i * P^(K-i+1) = target - state * P^K (mod 2^64), or null. */
function solveSteps(state: bigint, target: bigint): bigint[] | null {
  const weights = Array.from({ length: K }, (_, i) => modPow(P, BigInt(K - i)));
  const wanted = mod(target - state * modPow(P, BigInt(K)));
  // Rows: unit vectors for the d_i with their weights, the modulus, and the target (embedded with EMBED).
  const width = K + 2;
  const rows: bigint[][] = [];
  for (let i = 0; i < K; i++) rows.push(Array.from({ length: width }, (_, j) => (j === i ? 1n : j === K + 1 ? weights[i]! * SCALE : 0n)));
  rows.push(Array.from({ length: width }, (_, j) => (j === K + 1 ? MOD * SCALE : 0n)));
  rows.push(Array.from({ length: width }, (_, j) => (j === K ? EMBED : j === K + 1 ? -wanted * SCALE : 0n)));
  for (const row of lll(rows)) {
    if (row[K + 1] !== 0n || (row[K] !== EMBED && row[K] !== -EMBED)) continue;
    const sign = row[K] === EMBED ? 1n : -1n;
    return row.slice(0, K).map((value) => value * sign);
  }
  return null;
}

/** Turn the additions d_i into bytes after `state` (at `forged[at..]`); false when one does not fit in a byte. */
function writeSteps(forged: Buffer, at: number, state: bigint, steps: bigint[]): boolean {
  let low = Number(state & 0xffn);
  for (let i = 0; i < steps.length; i++) {
    const value = low + Number(steps[i]!); // the low byte after the xor
    if (value < 0 || value > 255) return false;
    forged[at + i] = low ^ value;
    low = (value * 0xb3) & 0xff; // the next state's low byte: value * P mod 256
  }
  return true;
}

/**
 * LLL reduction (δ = 0.99) in exact integers: Cohen, "A Course in Computational Algebraic Number
 * Theory", algorithm 2.6.7, with d_0 = 1 and every division exact.
 */
function lll(input: bigint[][]): bigint[][] {
  const b = input.map((row) => [...row]);
  const n = b.length;
  const d: bigint[] = new Array(n + 1).fill(0n);
  const lambda: bigint[][] = Array.from({ length: n }, () => new Array<bigint>(n).fill(0n));
  const dot = (x: bigint[], y: bigint[]): bigint => x.reduce((sum, value, i) => sum + value * y[i]!, 0n);
  // d[i + 1] is the Gram determinant of the first i + 1 rows; lambda[k][j] the scaled Gram-Schmidt coefficients.
  d[0] = 1n;
  d[1] = dot(b[0]!, b[0]!);
  let k = 1;
  let kmax = 0;
  const reduce = (k: number, l: number): void => {
    if (2n * abs(lambda[k]![l]!) <= d[l + 1]!) return;
    const q = roundDiv(lambda[k]![l]!, d[l + 1]!);
    b[k] = b[k]!.map((value, i) => value - q * b[l]![i]!);
    lambda[k]![l] = lambda[k]![l]! - q * d[l + 1]!;
    for (let i = 0; i < l; i++) lambda[k]![i] = lambda[k]![i]! - q * lambda[l]![i]!;
  };
  const swap = (k: number): void => {
    [b[k], b[k - 1]] = [b[k - 1]!, b[k]!];
    for (let j = 0; j < k - 1; j++) [lambda[k]![j], lambda[k - 1]![j]] = [lambda[k - 1]![j]!, lambda[k]![j]!];
    const l = lambda[k]![k - 1]!;
    const next = (d[k - 1]! * d[k + 1]! + l * l) / d[k]!;
    for (let i = k + 1; i <= kmax; i++) {
      const t = lambda[i]![k]!;
      lambda[i]![k] = (d[k + 1]! * lambda[i]![k - 1]! - l * t) / d[k]!;
      lambda[i]![k - 1] = (next * t + l * lambda[i]![k]!) / d[k + 1]!;
    }
    d[k] = next;
  };
  while (k < n) {
    if (k > kmax) {
      kmax = k;
      for (let j = 0; j <= k; j++) {
        let u = dot(b[k]!, b[j]!);
        for (let i = 0; i < j; i++) u = (d[i + 1]! * u - lambda[k]![i]! * lambda[j]![i]!) / d[i]!;
        if (j < k) lambda[k]![j] = u;
        else d[k + 1] = u;
      }
    }
    reduce(k, k - 1);
    const l = lambda[k]![k - 1]!;
    if (100n * (d[k + 1]! * d[k - 1]! + l * l) < 99n * d[k]! * d[k]!) {
      swap(k);
      k = Math.max(1, k - 1);
    } else {
      for (let i = k - 2; i >= 0; i--) reduce(k, i);
      k++;
    }
  }
  return b;
}

function modPow(base: bigint, exponent: bigint): bigint {
  let result = 1n;
  for (let e = exponent, x = mod(base); e > 0n; e >>= 1n, x = (x * x) % MOD) if (e & 1n) result = (result * x) % MOD;
  return result;
}

function mod(value: bigint): bigint {
  return ((value % MOD) + MOD) % MOD;
}

function abs(value: bigint): bigint {
  return value < 0n ? -value : value;
}

/** value / divisor rounded to the nearest integer (divisor > 0). */
function roundDiv(value: bigint, divisor: bigint): bigint {
  const twice = 2n * value + divisor;
  const q = twice / (2n * divisor);
  return twice < 0n && twice % (2n * divisor) !== 0n ? q - 1n : q;
}
