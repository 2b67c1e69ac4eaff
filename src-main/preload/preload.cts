// The Electron transport, page side. Sandboxed preloads run as CommonJS and can load only
// `electron`, so the channel names live here, and `satisfies` ties them to the contract.
import electron = require('electron');
import type { HearthApi, HearthEvents, HearthRequests, ModelSession } from '../core/api/contract.js';

const { contextBridge, ipcRenderer, webUtils } = electron;

type Listener = (payload: never) => void;
const listeners = new Map<string, Set<Listener>>();

ipcRenderer.on('hearth:event', (_event, message: { event?: unknown; payload?: unknown } | null) => {
  if (typeof message?.event !== 'string') return;
  for (const listener of listeners.get(message.event) ?? []) (listener as (payload: unknown) => void)(message.payload);
});

type NoArgument = { [K in keyof HearthRequests]: Parameters<HearthRequests[K]> extends [] ? K : never }[keyof HearthRequests];
type OneArgument = Exclude<keyof HearthRequests, NoArgument>;

// Exactly as many arguments as the contract names cross: the main side refuses any extra.
function none<K extends NoArgument>(name: K): HearthRequests[K] {
  return (() => ipcRenderer.invoke(`hearth:${name}`)) as HearthRequests[K];
}

function one<K extends OneArgument>(name: K): HearthRequests[K] {
  return ((argument: Parameters<HearthRequests[K]>[0]) => ipcRenderer.invoke(`hearth:${name}`, argument)) as HearthRequests[K];
}

// Only these functions cross into the page; ipcRenderer itself never does.
const hearth = {
  getStatus: none('getStatus'),
  getCluster: none('getCluster'),
  addPeer: one('addPeer'),
  showPairingCode: none('showPairingCode'),
  joinCluster: one('joinCluster'),
  listModelFiles: none('listModelFiles'),
  openModel: one('openModel'),
  closeModel: none('closeModel'),
  getSession: none('getSession'),
  setPlanChoices: one('setPlanChoices'),
  startWarmup: one('startWarmup'),
  cancelWarmup: none('cancelWarmup'),
  loadModel: none('loadModel'),
  unloadModel: none('unloadModel'),
  moveModelBack: none('moveModelBack'),
  sendChat: one('sendChat'),
  stopChat: one('stopChat'),
  getSettings: none('getSettings'),
  updateSettings: one('updateSettings'),
  clearCache: one('clearCache'),
  on<E extends keyof HearthEvents>(event: E, listener: (payload: HearthEvents[E]) => void): () => void {
    let set = listeners.get(event);
    if (!set) listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  },
  // In the app the file is already on this disk: open it where it is, no upload.
  async openDroppedFile(file: File): Promise<ModelSession> {
    const path = webUtils.getPathForFile(file);
    if (!path) throw new Error('This file has no path on disk (dragged from a browser?): save it first, then drop the saved file.');
    return (await ipcRenderer.invoke('hearth:openModel', { path })) as ModelSession;
  },
} satisfies HearthApi;

contextBridge.exposeInMainWorld('hearth', hearth);
