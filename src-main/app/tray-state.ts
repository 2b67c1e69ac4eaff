// What the tray icon and its tooltip say, from the machine's status and the model session.
import type { MachineStatus, ModelSession } from '../core/api/contract.js';

/** The tray icon's four looks. */
export type TrayState = 'idle' | 'serving' | 'warming' | 'error';

/** Every tray state, for the icons and their tests. */
export const trayStates: readonly TrayState[] = ['idle', 'serving', 'warming', 'error'];

// Windows cuts a tray tooltip at 127 characters (NOTIFYICONDATA.szTip); keep every platform alike.
const TOOLTIP_MAX = 127;

/** The icon for this status: a worker fault first, then cache traffic, then a model at work; a paused worker is idle. */
export function trayState(status: MachineStatus, session?: ModelSession | null): TrayState {
  const { worker } = status;
  if (worker.state === 'error' || worker.state === 'restarting') return 'error';
  if (warmupRunning(session) || (worker.state === 'serving' && worker.activity === 'receiving')) return 'warming';
  if (modelAtWork(session) || (worker.state === 'serving' && worker.activity === 'serving')) return 'serving';
  return 'idle';
}

/** The tooltip: "Hearth", the worker's state, and what the model session is doing. */
export function trayTooltip(status: MachineStatus, session?: ModelSession | null): string {
  const parts = ['Hearth', workerLine(status), sessionLine(session)].filter((part): part is string => part !== null);
  const text = parts.join(' · ');
  return text.length <= TOOLTIP_MAX ? text : `${text.slice(0, TOOLTIP_MAX - 1)}…`;
}

/** The worker's state in a few words, e.g. "worker serving a model", "worker paused". */
export function workerLine(status: MachineStatus): string {
  const { worker } = status;
  switch (worker.state) {
    case 'building':
      return `building the llama.cpp tools${percent(worker.build?.fraction ?? null)}`;
    case 'starting':
      return 'worker starting';
    case 'serving':
      if (worker.activity === 'receiving') return 'worker receiving cache entries';
      return worker.activity === 'serving' ? 'worker serving a model' : 'worker ready';
    case 'restarting':
      return `worker restarting${worker.error ? `: ${worker.error}` : ''}`;
    case 'paused':
      return 'worker paused';
    case 'stopped':
      return 'worker stopped';
    case 'error':
      return `worker error${worker.error ? `: ${worker.error}` : ''}`;
  }
}

/** What the open model is doing, e.g. "loading tiny.gguf 40%"; null when nothing runs. */
export function sessionLine(session?: ModelSession | null): string | null {
  if (!session?.model) return null;
  const { fileName } = session.model;
  const { warmup, load } = session;
  if (warmup && warmupRunning(session)) {
    if (warmup.state === 'hashing') return `hashing ${fileName}${percent(warmup.hashing)}`;
    const total = warmup.peers.reduce((sum, peer) => sum + peer.bytesTotal, 0);
    const done = warmup.peers.reduce((sum, peer) => sum + peer.bytesDone, 0);
    return `warming caches for ${fileName}${percent(total > 0 ? done / total : null)}`;
  }
  switch (load.state) {
    case 'hashing':
    case 'loading':
      return `loading ${fileName}${percent(load.fraction)}`;
    case 'ready':
      return `serving ${fileName}`;
    case 'unloading':
      return `unloading ${fileName}`;
    default:
      return null;
  }
}

function warmupRunning(session?: ModelSession | null): boolean {
  const state = session?.warmup?.state;
  return state === 'hashing' || state === 'warming';
}

function modelAtWork(session?: ModelSession | null): boolean {
  const state = session?.load.state;
  return state === 'hashing' || state === 'loading' || state === 'ready' || state === 'unloading';
}

function percent(fraction: number | null): string {
  return fraction === null ? '' : ` ${Math.round(Math.min(1, Math.max(0, fraction)) * 100)}%`;
}
