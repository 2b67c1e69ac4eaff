// llama.cpp's layer-to-device assignment, reproduced step for step, in the same float32
// arithmetic, so Hearth knows exactly which layers each device gets for given
// `--tensor-split` and `-ngl` values.
// Upstream: src/llama-model.cpp, `llama_model_base::load_tensors` ("calculate the split points",
// `i_gpu_start`, `act_gpu_layers`, `get_layer_buft_list`), and `llama_model::n_gpu_layers`.

/** Where llama.cpp puts each repeating layer and the output layer: a device index, or "cpu" (the host). */
export interface LayerAssignment {
  /** Device index (llama.cpp's device order) or "cpu", for each of the model's blocks. */
  layers: Array<number | 'cpu'>;
  /** Where the output layer (`output.weight`, `output_norm.weight`) goes: the "layer" after the last block. */
  output: number | 'cpu';
}

/** `--tensor-split` accepts fewer values than this (common/arg.cpp: `split_arg.size() >= llama_max_devices()` is refused). */
export const LLAMA_MAX_DEVICES = 16;

const f32 = Math.fround;

/**
 * The cumulative, normalised split points for `devices` devices: llama.cpp's `splits` vector.
 * `tensorSplit` is what `-ts` parsed to (missing values are 0); when all are 0 or none are given
 * llama.cpp falls back to each device's free memory (`freeBytes`).
 */
export function splitPoints(tensorSplit: readonly number[] | null, freeBytes: readonly number[]): number[] {
  const devices = freeBytes.length;
  const given = Array.from({ length: devices }, (_, i) => f32(tensorSplit?.[i] ?? 0));
  const allZero = given.every((value) => value === 0);
  // size_t free memory converted to float, exactly as `splits[i] = free` does.
  const splits = allZero ? freeBytes.map((free) => f32(free)) : given;
  let sum = f32(0);
  const points = splits.map((value) => (sum = f32(sum + value)));
  return points.map((point) => f32(point / sum));
}

/** What `-ngl N` becomes: llama.cpp reads a negative value (`auto`, `all`) as every layer plus the output layer. */
export function effectiveGpuLayers(gpuLayers: number, blockCount: number): number {
  return gpuLayers >= 0 ? gpuLayers : blockCount + 1;
}

/**
 * Device of every block and of the output layer, for `devices` split points as `splitPoints`
 * returns them. The output layer counts as one more layer (index `blockCount`), so `-ngl` of
 * blockCount + 1 or more offloads everything; the first `blockCount + 1 - ngl` layers stay on the host.
 */
export function assignLayers(points: readonly number[], blockCount: number, gpuLayers: number): LayerAssignment {
  const ngl = effectiveGpuLayers(gpuLayers, blockCount);
  const gpuStart = Math.max(blockCount + 1 - ngl, 0);
  const active = points.length === 0 ? 0 : Math.min(ngl, blockCount + 1);
  const deviceOf = (il: number): number | 'cpu' => {
    if (il < gpuStart || il - gpuStart >= active) return 'cpu';
    // float(il - i_gpu_start) / act_gpu_layers, then std::upper_bound: the first point above it.
    const at = f32(f32(il - gpuStart) / f32(active));
    const index = points.findIndex((point) => point > at);
    // Upstream would throw std::out_of_range from devices.at(); only NaN points (all zero) get here.
    if (index === -1) throw new Error(`no split point above ${at}: the split points are not normalised (${points.join(', ')})`);
    return index;
  };
  const layers = Array.from({ length: blockCount }, (_, il) => deviceOf(il));
  return { layers, output: deviceOf(blockCount) };
}

/**
 * The `-ts` text for `values`, and the float values llama.cpp's `std::stof` parses from it.
 * Exact for whole numbers (the planner only emits layer counts); a decimal fraction could round
 * differently through double than `stof` rounds it straight to float.
 */
export function tensorSplitArgument(values: readonly number[]): { text: string; parsed: number[] } {
  // Trailing zeros add nothing (unlisted devices are 0) and count against the device limit.
  let length = values.length;
  while (length > 1 && values[length - 1] === 0) length--;
  const kept = values.slice(0, length);
  return { text: kept.map((value) => String(value)).join(','), parsed: kept.map((value) => f32(value)) };
}
