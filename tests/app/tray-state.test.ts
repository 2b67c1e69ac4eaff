import { describe, expect, it } from 'vitest';
import { trayState, trayTooltip } from '../../src-main/app/tray-state.js';
import { machine, session, warmup } from './tray-fixtures.js';

describe('trayState', () => {
  it('is idle while the worker waits, starts, builds, is paused or stops', () => {
    expect(trayState(machine())).toBe('idle');
    for (const state of ['building', 'starting', 'paused', 'stopped'] as const) {
      expect(trayState(machine({ state })), state).toBe('idle');
    }
    expect(trayState(machine(), null)).toBe('idle');
    expect(trayState(machine(), session({ warmup: warmup('done'), load: { state: 'failed' } }))).toBe('idle');
  });

  it('is serving while the worker runs a model, or one loads or serves here', () => {
    expect(trayState(machine({ activity: 'serving' }))).toBe('serving');
    for (const state of ['hashing', 'loading', 'ready'] as const) {
      expect(trayState(machine(), session({ load: { state } })), state).toBe('serving');
    }
    // A model served from the peers while this machine's worker is paused.
    expect(trayState(machine({ state: 'paused' }), session({ load: { state: 'ready' } }))).toBe('serving');
  });

  it('is warming while cache entries come in or a warm-up runs, ahead of serving', () => {
    expect(trayState(machine({ activity: 'receiving' }))).toBe('warming');
    expect(trayState(machine(), session({ warmup: warmup('hashing') }))).toBe('warming');
    expect(trayState(machine({ activity: 'serving' }), session({ warmup: warmup('warming'), load: { state: 'ready' } }))).toBe('warming');
  });

  it('is error while the worker has failed or restarts, whatever else runs', () => {
    expect(trayState(machine({ state: 'error', error: 'no GPU' }))).toBe('error');
    expect(trayState(machine({ state: 'restarting', activity: 'serving' }), session({ warmup: warmup('warming') }))).toBe('error');
  });
});

describe('trayTooltip', () => {
  it('says what the worker does', () => {
    expect(trayTooltip(machine())).toBe('Hearth · worker ready');
    expect(trayTooltip(machine({ activity: 'serving' }))).toBe('Hearth · worker serving a model');
    expect(trayTooltip(machine({ activity: 'receiving' }))).toBe('Hearth · worker receiving cache entries');
    expect(trayTooltip(machine({ state: 'paused' }))).toBe('Hearth · worker paused');
    expect(trayTooltip(machine({ state: 'building', build: { step: 'compiling', fraction: 0.424 } }))).toBe('Hearth · building the llama.cpp tools 42%');
    expect(trayTooltip(machine({ state: 'error', error: 'port 50052 is in use' }))).toBe('Hearth · worker error: port 50052 is in use');
  });

  it('adds what the open model is doing', () => {
    expect(trayTooltip(machine(), session())).toBe('Hearth · worker ready');
    expect(trayTooltip(machine(), session({ load: { state: 'loading', fraction: 0.4 } }))).toBe('Hearth · worker ready · loading tiny.gguf 40%');
    expect(trayTooltip(machine({ state: 'paused' }), session({ load: { state: 'ready' } }))).toBe('Hearth · worker paused · serving tiny.gguf');
    expect(trayTooltip(machine(), session({ warmup: warmup('warming', 30, 120) }))).toBe('Hearth · worker ready · warming caches for tiny.gguf 25%');
    expect(trayTooltip(machine(), session({ warmup: warmup('hashing') }))).toBe('Hearth · worker ready · hashing tiny.gguf 25%');
  });

  it('fits the 127 characters Windows shows', () => {
    const tooltip = trayTooltip(machine({ state: 'error', error: 'x'.repeat(300) }));
    expect(tooltip).toHaveLength(127);
    expect(tooltip.endsWith('…')).toBe(true);
    expect(tooltip.startsWith('Hearth · worker error: xxx')).toBe(true);
  });
});
