// llama.cpp's split-point code (src/llama-model.cpp `load_tensors`), checked against cases worked by hand.
import { describe, expect, it } from 'vitest';
import { assignLayers, effectiveGpuLayers, splitPoints, tensorSplitArgument } from '../../../src-main/core/planner/split-points.js';

const FREE = [8e9, 8e9];

describe('split points', () => {
  it('are the cumulative shares over their sum', () => {
    expect(splitPoints([1, 3], FREE)).toEqual([0.25, 1]);
    expect(splitPoints([1, 0, 1], [1, 1, 1])).toEqual([0.5, 0.5, 1]);
  });

  it('fall back to free memory when no share is given or every share is 0, as llama.cpp does', () => {
    expect(splitPoints(null, [1e9, 3e9])).toEqual([0.25, 1]);
    expect(splitPoints([0, 0], [1e9, 3e9])).toEqual([0.25, 1]);
  });

  it('treat values missing from -ts as 0 and ignore values past the last device', () => {
    expect(splitPoints([2], [1, 1, 1])).toEqual([1, 1, 1]);
    expect(splitPoints([1, 1, 5], [1, 1])).toEqual([0.5, 1]);
  });
});

describe('layer assignment', () => {
  it('-ts 1,1 with two layers: both layers on the first device, only the output layer on the second', () => {
    // 3 units (2 layers + output); positions 0, 1/3, 2/3 against points 0.5, 1.
    expect(assignLayers(splitPoints([1, 1], FREE), 2, 99)).toEqual({ layers: [0, 0], output: 1 });
  });

  it('-ts 1,3 with three layers: a position equal to a split point goes to the next device (upper_bound)', () => {
    // Positions 0, 0.25, 0.5, 0.75 against 0.25, 1: layer 1 sits exactly on 0.25.
    expect(assignLayers(splitPoints([1, 3], FREE), 3, 99)).toEqual({ layers: [0, 1, 1], output: 1 });
  });

  it('-ngl counts the output layer: -ngl 3 of 3 layers keeps layer 0 on the host', () => {
    // i_gpu_start = 3 + 1 - 3 = 1; layers 1, 2 and the output at positions 0, 1/3, 2/3.
    expect(assignLayers(splitPoints([1, 3], FREE), 3, 3)).toEqual({ layers: ['cpu', 0, 1], output: 1 });
    expect(assignLayers(splitPoints([1, 1], FREE), 3, 1)).toEqual({ layers: ['cpu', 'cpu', 'cpu'], output: 0 });
    expect(assignLayers(splitPoints([1, 1], FREE), 3, 0)).toEqual({ layers: ['cpu', 'cpu', 'cpu'], output: 'cpu' });
  });

  it('-ngl 99, "all" or "auto" offload every layer and the output', () => {
    expect(effectiveGpuLayers(-1, 40)).toBe(41);
    expect(effectiveGpuLayers(-2, 40)).toBe(41);
    expect(assignLayers(splitPoints([1], [1]), 40, 99).layers.every((device) => device === 0)).toBe(true);
    expect(assignLayers(splitPoints([1], [1]), 40, -2).output).toBe(0);
  });

  it('with more devices than layers the last devices get nothing', () => {
    // 3 units over 4 equal devices: positions 0, 1/3, 2/3 against 0.25, 0.5, 0.75, 1.
    expect(assignLayers(splitPoints([1, 1, 1, 1], [1, 1, 1, 1]), 2, 99)).toEqual({ layers: [0, 1], output: 2 });
  });

  it('skips a device whose share is 0', () => {
    expect(assignLayers(splitPoints([1, 0, 1], [1, 1, 1]), 2, 99)).toEqual({ layers: [0, 0], output: 2 });
    expect(assignLayers(splitPoints([0, 1], [1, 1]), 3, 99)).toEqual({ layers: [1, 1, 1], output: 1 });
  });

  it('runs in float32 like llama.cpp: -ts 2.1,0.7 sends the output layer of a 3-layer model to the second device', () => {
    // In double precision 2.1/2.8 is above 0.75 and everything would land on the first device.
    expect(assignLayers(splitPoints([2.1, 0.7], FREE), 3, 99)).toEqual({ layers: [0, 0, 0], output: 1 });
    expect(assignLayers(splitPoints([2.7, 0.9], FREE), 3, 99)).toEqual({ layers: [0, 0, 0], output: 0 });
  });

  it('gives each device one contiguous run of layers, in device order', () => {
    for (const shares of [[1, 2, 3], [5, 1, 1, 9], [0.3, 0.3, 0.4]]) {
      const { layers, output } = assignLayers(splitPoints(shares, shares.map(() => 1)), 37, 99);
      const order = [...layers, output] as number[];
      expect(order).toEqual([...order].sort((a, b) => a - b));
    }
  });
});

describe('--tensor-split text', () => {
  it('drops trailing zeros and parses whole numbers exactly', () => {
    expect(tensorSplitArgument([2, 0, 1, 0, 0])).toEqual({ text: '2,0,1', parsed: [2, 0, 1] });
    expect(tensorSplitArgument([0, 0])).toEqual({ text: '0', parsed: [0] });
  });
});
