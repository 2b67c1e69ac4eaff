// The preload runs only inside Electron. Here it runs the way a sandboxed preload does — as
// CommonJS given a `require` that knows only `electron` — with a stand-in for `electron` that
// records what crosses into the page.
import fs from 'node:fs';
import vm from 'node:vm';
import ts from 'typescript';
import { beforeEach, describe, expect, it } from 'vitest';
import type { HearthRequests } from '../../src-main/core/api/contract.js';

const source = fs.readFileSync(new URL('../../src-main/preload/preload.cts', import.meta.url), 'utf8');
const { outputText } = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } });

const exposed = new Map<string, Record<string, (...args: unknown[]) => unknown>>();
const invoked: unknown[][] = [];
const required: string[] = [];
let deliver: ((event: unknown, message: unknown) => void) | undefined;
const diskPaths = new Map<unknown, string>();

// How many arguments each request takes; the compiler rejects this when the contract changes.
const requestArity = {
  getStatus: 0,
  getCluster: 0,
  addPeer: 1,
  showPairingCode: 0,
  joinCluster: 1,
  listModelFiles: 0,
  openModel: 1,
  closeModel: 0,
  getSession: 0,
  setPlanChoices: 1,
  startWarmup: 1,
  cancelWarmup: 0,
  loadModel: 0,
  unloadModel: 0,
  moveModelBack: 0,
  sendChat: 1,
  stopChat: 1,
  getSettings: 0,
  updateSettings: 1,
  clearCache: 1,
} satisfies Record<keyof HearthRequests, 0 | 1>;

const electron = {
  contextBridge: { exposeInMainWorld: (key: string, api: Record<string, (...args: unknown[]) => unknown>) => exposed.set(key, api) },
  ipcRenderer: {
    invoke: async (...args: unknown[]) => {
      invoked.push(args);
      return { hostname: 'box' };
    },
    on: (channel: string, listener: (event: unknown, message: unknown) => void) => {
      if (channel === 'hearth:event') deliver = listener;
    },
  },
  // Electron answers "" for a File with no path on disk (one made in the page, or dragged from a browser).
  webUtils: { getPathForFile: (file: unknown) => diskPaths.get(file) ?? '' },
};

// Electron's sandboxed preloads can require only a few built-ins; anything else would fail there.
function sandboxRequire(name: string): unknown {
  required.push(name);
  if (name === 'electron') return electron;
  throw new Error(`a sandboxed preload cannot require ${name}`);
}

const module = { exports: {} };
vm.runInNewContext(outputText, { require: sandboxRequire, module, exports: module.exports });
const hearth = exposed.get('hearth');

describe('preload', () => {
  it('requires only electron', () => {
    expect(required).toEqual(['electron']);
  });

  it('exposes exactly one function per request plus on and openDroppedFile, and nothing of ipcRenderer', () => {
    expect([...exposed.keys()]).toEqual(['hearth']);
    expect(Object.keys(hearth ?? {}).sort()).toEqual([...Object.keys(requestArity), 'on', 'openDroppedFile'].sort());
    expect(Object.values(hearth ?? {}).every((value) => typeof value === 'function')).toBe(true);
  });

  describe('requests', () => {
    beforeEach(() => {
      invoked.length = 0;
    });

    it('invokes the request channel with no extra arguments', async () => {
      await expect(hearth?.getStatus?.()).resolves.toEqual({ hostname: 'box' });
      expect(invoked).toStrictEqual([['hearth:getStatus']]);
    });

    it('sends each request on its own channel with exactly the arguments the contract names', async () => {
      for (const [name, arity] of Object.entries(requestArity)) {
        invoked.length = 0;
        const argument = { for: name };
        // A page passing more than the contract allows: the surplus stays behind.
        await hearth?.[name]?.(argument, 'surplus');
        expect(invoked, name).toStrictEqual([arity === 0 ? [`hearth:${name}`] : [`hearth:${name}`, argument]]);
      }
    });
  });

  describe('openDroppedFile', () => {
    beforeEach(() => {
      invoked.length = 0;
    });

    it('opens a dropped file by its path on disk', async () => {
      const file = { name: 'tiny.gguf' };
      diskPaths.set(file, '/models/tiny.gguf');
      await expect(hearth?.openDroppedFile?.(file)).resolves.toEqual({ hostname: 'box' });
      // The `{ path }` is made inside the preload's realm, so compare by value.
      expect(invoked).toEqual([['hearth:openModel', { path: '/models/tiny.gguf' }]]);
    });

    it('refuses a file with no path, saying what to do, and sends nothing', async () => {
      await expect(hearth?.openDroppedFile?.({ name: 'from-a-browser.gguf' })).rejects.toThrow(
        'This file has no path on disk (dragged from a browser?): save it first, then drop the saved file.',
      );
      expect(invoked).toEqual([]);
    });
  });

  it('delivers events to listeners until they unsubscribe, ignoring junk', () => {
    const seen: unknown[] = [];
    const off = hearth?.on?.('status', (payload: unknown) => seen.push(payload)) as () => void;
    deliver?.({}, { event: 'status', payload: 1 });
    deliver?.({}, { event: 'other', payload: 2 });
    deliver?.({}, null);
    off();
    deliver?.({}, { event: 'status', payload: 3 });
    expect(seen).toEqual([1]);
  });
});
