import { describe, expect, it } from 'vitest';
import { cacheLine, trayMenu, type TrayMenuItem } from '../../src-main/app/tray-menu.js';
import type { MachineStatus } from '../../src-main/core/api/contract.js';
import { machine, session } from './tray-fixtures.js';

const now = 1_700_000_000_000;
const GiB = 1024 ** 3;

function menu(status: MachineStatus, extra: Partial<Parameters<typeof trayMenu>[0]> = {}): TrayMenuItem[] {
  return trayMenu({ status, now, ...extra });
}

function labels(items: TrayMenuItem[]): string[] {
  return items.map((item) => (item.type === 'separator' ? '---' : item.label));
}

function item(items: TrayMenuItem[], label: string): Extract<TrayMenuItem, { type: 'normal' }> {
  const found = items.find((entry) => entry.type === 'normal' && entry.label === label);
  if (!found || found.type !== 'normal') throw new Error(`no "${label}" in ${labels(items).join(' | ')}`);
  return found;
}

describe('trayMenu', () => {
  it('opens, informs, pauses, pairs and quits, in that order', () => {
    const items = menu(machine({ activity: 'serving', cache: { usedBytes: 12.3 * GiB, capBytes: 50 * GiB } }));
    expect(labels(items)).toEqual([
      'Open Hearth',
      '---',
      'Worker serving a model',
      'Cache: 12.30 GiB of 50.00 GiB',
      '---',
      'Pause worker',
      'Copy pairing code',
      '---',
      'Quit Hearth',
    ]);
    expect(item(items, 'Open Hearth')).toEqual({ type: 'normal', label: 'Open Hearth', enabled: true, action: 'open' });
    expect(item(items, 'Quit Hearth')).toMatchObject({ enabled: true, action: 'quit' });
    expect(item(items, 'Pause worker')).toMatchObject({ enabled: true, action: 'pause-worker' });
    expect(item(items, 'Copy pairing code')).toMatchObject({ enabled: true, action: 'copy-pairing-code' });
  });

  it('makes the information lines unclickable', () => {
    const items = menu(machine({ cache: { usedBytes: 0, capBytes: GiB } }), { session: session({ load: { state: 'ready' } }) });
    for (const label of ['Worker ready', 'Serving tiny.gguf', 'Cache: 0 B of 1.00 GiB']) {
      expect(item(items, label), label).toMatchObject({ enabled: false, action: null });
    }
  });

  it('offers Resume instead of Pause while paused', () => {
    const items = menu(machine({ state: 'paused' }));
    expect(labels(items)).toContain('Resume worker');
    expect(labels(items)).not.toContain('Pause worker');
    expect(item(items, 'Resume worker')).toMatchObject({ enabled: true, action: 'resume-worker' });
    expect(item(items, 'Worker paused')).toMatchObject({ enabled: false });
  });

  it('can pause a worker that fails, but not one that Hearth is stopping', () => {
    expect(item(menu(machine({ state: 'error', error: 'no GPU' })), 'Pause worker').enabled).toBe(true);
    expect(item(menu(machine({ state: 'starting' })), 'Pause worker').enabled).toBe(true);
    expect(item(menu(machine({ state: 'stopped' })), 'Pause worker').enabled).toBe(false);
  });

  it('offers a pairing code only once the cluster side runs', () => {
    for (const state of ['serving', 'restarting', 'paused'] as const) {
      expect(item(menu(machine({ state })), 'Copy pairing code').enabled, state).toBe(true);
    }
    for (const state of ['building', 'starting', 'error', 'stopped'] as const) {
      expect(item(menu(machine({ state })), 'Copy pairing code').enabled, state).toBe(false);
    }
  });

  it('shows the copied pairing code until it expires', () => {
    const pairing = { code: '482-913', expiresAt: now + 60_000 };
    const shown = menu(machine(), { pairing });
    expect(item(shown, 'Pairing code 482-913 (copied)')).toMatchObject({ enabled: false, action: null });
    expect(labels(shown).indexOf('Pairing code 482-913 (copied)')).toBe(labels(shown).indexOf('Copy pairing code') + 1);
    expect(labels(menu(machine(), { pairing, now: now + 60_000 })).join()).not.toContain('482-913');
    expect(labels(menu(machine(), { pairing: null })).join()).not.toContain('Pairing code');
  });

  it('names a worker error in the state line', () => {
    expect(labels(menu(machine({ state: 'error', error: 'port 50052 is in use' })))).toContain('Worker error: port 50052 is in use');
  });
});

describe('cacheLine', () => {
  it('shows use of cap, or that the cache is not open yet', () => {
    expect(cacheLine({ usedBytes: 1536 * 1024 ** 2, capBytes: 200 * GiB })).toBe('Cache: 1.50 GiB of 200.00 GiB');
    expect(cacheLine(null)).toBe('Cache: not open yet');
  });
});
