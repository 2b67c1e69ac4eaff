// The Electron transport, page side. Sandboxed preloads run as CommonJS and can load only
// `electron`, so the channel names live here, and `satisfies` ties them to the contract.
import electron = require('electron');
import type { HearthApi, HearthEvents, MachineStatus } from '../core/api/contract.js';

const { contextBridge, ipcRenderer } = electron;

type Listener = (payload: never) => void;
const listeners = new Map<string, Set<Listener>>();

ipcRenderer.on('hearth:event', (_event, message: { event?: unknown; payload?: unknown } | null) => {
  if (typeof message?.event !== 'string') return;
  for (const listener of listeners.get(message.event) ?? []) (listener as (payload: unknown) => void)(message.payload);
});

// Only these functions cross into the page; ipcRenderer itself never does.
const hearth = {
  getStatus: (): Promise<MachineStatus> => ipcRenderer.invoke('hearth:getStatus') as Promise<MachineStatus>,
  on<E extends keyof HearthEvents>(event: E, listener: (payload: HearthEvents[E]) => void): () => void {
    let set = listeners.get(event);
    if (!set) listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  },
} satisfies HearthApi;

contextBridge.exposeInMainWorld('hearth', hearth);
