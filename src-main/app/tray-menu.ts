// The tray menu as plain data, from the machine's status: tray.ts turns it into an Electron menu.
import type { MachineStatus, ModelSession, PairingCode, WorkerState } from '../core/api/contract.js';
import { formatBytes } from '../shared/format-bytes.js';
import { sessionLine, workerLine } from './tray-state.js';

/** What a tray menu item does when clicked. */
export type TrayAction = 'open' | 'pause-worker' | 'resume-worker' | 'copy-pairing-code' | 'quit';

/** One line of the tray menu: a separator, or a label that does `action` (none for an information line). */
export type TrayMenuItem =
  | { type: 'separator' }
  | { type: 'normal'; label: string; enabled: boolean; action: TrayAction | null };

/** Everything the tray menu shows. */
export interface TrayMenuInput {
  status: MachineStatus;
  session?: ModelSession | null;
  /** The pairing code last copied from the tray, shown until it expires (tray.ts redraws then). */
  pairing?: PairingCode | null;
  /** ms since the epoch, for the pairing code's expiry. */
  now: number;
}

// Pausing stops offering this machine; it makes no sense while Hearth shuts down.
const PAUSABLE = new Set<WorkerState>(['building', 'starting', 'serving', 'restarting', 'error']);
// The cluster side (and so pairing) runs once the worker has started.
const PAIRABLE = new Set<WorkerState>(['serving', 'restarting', 'paused']);

/** The tray menu: open, what the worker and cache are doing, pause or resume, pairing, quit. */
export function trayMenu(input: TrayMenuInput): TrayMenuItem[] {
  const { worker } = input.status;
  const paused = worker.state === 'paused';
  const model = sessionLine(input.session);
  const pairing = input.pairing && input.pairing.expiresAt > input.now ? input.pairing : null;
  return [
    action('Open Hearth', 'open'),
    { type: 'separator' },
    info(capitalise(workerLine(input.status))),
    ...(model ? [info(capitalise(model))] : []),
    info(cacheLine(worker.cache)),
    { type: 'separator' },
    paused ? action('Resume worker', 'resume-worker') : action('Pause worker', 'pause-worker', PAUSABLE.has(worker.state)),
    action('Copy pairing code', 'copy-pairing-code', PAIRABLE.has(worker.state)),
    ...(pairing ? [info(`Pairing code ${pairing.code} (copied)`)] : []),
    { type: 'separator' },
    action('Quit Hearth', 'quit'),
  ];
}

/** "Cache: 12.30 GiB of 50.00 GiB", or why there is no figure yet. */
export function cacheLine(cache: { usedBytes: number; capBytes: number } | null): string {
  if (!cache) return 'Cache: not open yet';
  return `Cache: ${formatBytes(cache.usedBytes)} of ${formatBytes(cache.capBytes)}`;
}

function action(label: string, id: TrayAction, enabled = true): TrayMenuItem {
  return { type: 'normal', label, enabled, action: id };
}

function info(label: string): TrayMenuItem {
  return { type: 'normal', label, enabled: false, action: null };
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
