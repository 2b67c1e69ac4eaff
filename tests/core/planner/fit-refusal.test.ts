// Plans that do not fit: the refusal says what is short where, by how much, and what would fit.
import { describe, expect, it } from 'vitest';
import { HearthError } from '../../../src-main/core/base/errors.js';
import { assertPlanFits, planSplit } from '../../../src-main/core/planner/plan-split.js';
import type { PlanOptions } from '../../../src-main/core/planner/plan-types.js';
import { fakeLlama, GiB, MiB, rpcDevice } from './llama-facts.js';

// Per device with layers 0-1 at context 4096: 58.02 MiB weights, 8 MiB KV, 53 MiB compute, 256 MiB headroom.
const small = fakeLlama({ layers: 2, hidden: 1024, ffn: 4096, heads: 8, kvHeads: 2, vocab: 32000 });
const evenly: PlanOptions['shares'] = { 'a/CUDA0': 1, 'b/CUDA0': 1 };

describe('a context too long for the devices', () => {
  const devices = [rpcDevice('a', 500 * MiB), rpcDevice('b', GiB)];
  const plan = planSplit(small, devices, { contextLength: 32768, shares: evenly });

  it('names the device that is short, its needs and by how much', () => {
    expect(plan.fits).toBe(false);
    expect(plan.devices.map((device) => [device.device.id, device.fits, device.shortBytes])).toEqual([['a/CUDA0', false, 543.015625 * MiB - 500 * MiB], ['b/CUDA0', true, 0]]);
    expect(plan.verdict).toBe('fake-llama does not fit at context 32768: a CUDA0 needs 543.02 MiB (weights 58.02 MiB, KV cache 64.00 MiB, compute 165.00 MiB, headroom 256.00 MiB) but has 500.00 MiB free, 43.02 MiB short.');
  });

  it('offers other shares, the largest context that fits, and the memory to free', () => {
    expect(plan.advice).toEqual([
      'Automatic shares (in proportion to free memory) fit at context 32768.',
      'Context 25344 fits with these shares.',
      'Free 43.02 MiB more on a CUDA0 for this split.',
    ]);
    expect(planSplit(small, devices, { shares: evenly }).fits).toBe(true);
    expect(planSplit(small, devices, { contextLength: 25344, shares: evenly }).fits).toBe(true);
    expect(planSplit(small, devices, { contextLength: 25345, shares: evenly }).fits).toBe(false);
  });

  it('is refused with all of it as one HearthError', () => {
    let error: unknown;
    try {
      assertPlanFits(plan);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(HearthError);
    expect((error as HearthError).code).toBe('plan-does-not-fit');
    expect((error as HearthError).message).toBe(`${plan.verdict} What would fit: ${plan.advice.join(' ')}`);
    expect(() => assertPlanFits(planSplit(small, devices))).not.toThrow();
  });
});

describe('shares that overload one device', () => {
  it('suggest a split that fits, as layer counts', () => {
    const plan = planSplit(small, [rpcDevice('a', 420 * MiB), rpcDevice('b', 420 * MiB)], { shares: { 'a/CUDA0': 3, 'b/CUDA0': 1 } });
    expect(plan.verdict).toMatch(/^fake-llama does not fit at context 4096: a CUDA0 needs 469\.02 MiB .* but has 420\.00 MiB free, 49\.02 MiB short\.$/);
    expect(plan.advice[0]).toBe('Automatic shares (in proportion to free memory) fit at context 4096.');
    // Auto with equal free memory is 1:1: both layers on a, the output on b.
    expect(planSplit(small, [rpcDevice('a', 420 * MiB), rpcDevice('b', 420 * MiB)]).fits).toBe(true);
  });

  it('when automatic shares do not fit either, the best split is spelled out', () => {
    // One layer alone needs 342 MiB on a (29 + 4 + 53 + 256): a can hold nothing, b can hold everything (469 MiB).
    const devices = [rpcDevice('a', 300 * MiB), rpcDevice('b', 500 * MiB)];
    const plan = planSplit(small, devices, { shares: evenly });
    expect(plan.fits).toBe(false);
    expect(planSplit(small, devices).fits).toBe(false);
    expect(plan.advice).toEqual(['These shares fit at context 4096: a/CUDA0=0, b/CUDA0=3.', 'Free 75.02 MiB more on a CUDA0 for this split.']);
    expect(planSplit(small, devices, { shares: { 'a/CUDA0': 0, 'b/CUDA0': 3 } }).fits).toBe(true);
  });
});

describe('a peer left out', () => {
  it('is named when taking it back would make the model fit', () => {
    const plan = planSplit(small, [rpcDevice('a', 400 * MiB), rpcDevice('b', GiB)], { exclude: ['b'] });
    expect(plan.verdict).toBe('fake-llama does not fit at context 4096: a CUDA0 needs 457.02 MiB (weights 120.52 MiB, KV cache 8.00 MiB, compute 72.50 MiB, headroom 256.00 MiB) but has 400.00 MiB free, 57.02 MiB short.');
    expect(plan.advice).toEqual([
      'Including peer b, left out now, would fit: a/CUDA0=2, b/CUDA0=1.',
      'Offloading 1 of 3 layers (the output layer counts as one) fits with -ngl 1; the first 2 stay on this machine\'s CPU, which is slower.',
      'Free 57.02 MiB more on a CUDA0 for this split.',
    ]);
  });
});

describe('devices far too small', () => {
  it('say how much memory is missing in all', () => {
    const plan = planSplit(small, [rpcDevice('a', 300 * MiB), rpcDevice('b', 300 * MiB)]);
    expect(plan.fits).toBe(false);
    expect(plan.advice).toEqual([
      'In all, the devices taking part need 162.02 MiB more free memory: free some on them, or add a peer.',
      'Free 75.02 MiB more on a CUDA0 for this split.',
      'Free 87.00 MiB more on b CUDA0 for this split.',
    ]);
  });
});
