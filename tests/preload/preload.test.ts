// The preload runs only inside Electron. Here it runs the way a sandboxed preload does — as
// CommonJS given a `require` that knows only `electron` — with a stand-in for `electron` that
// records what crosses into the page.
import fs from 'node:fs';
import vm from 'node:vm';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const source = fs.readFileSync(new URL('../../src-main/preload/preload.cts', import.meta.url), 'utf8');
const { outputText } = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } });

const exposed = new Map<string, Record<string, (...args: unknown[]) => unknown>>();
const invoked: unknown[][] = [];
const required: string[] = [];
let deliver: ((event: unknown, message: unknown) => void) | undefined;

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

  it('exposes exactly one function per request plus on, and nothing of ipcRenderer', () => {
    expect([...exposed.keys()]).toEqual(['hearth']);
    expect(Object.keys(hearth ?? {}).sort()).toEqual(['getStatus', 'on']);
  });

  it('invokes the request channel with no extra arguments', async () => {
    await expect(hearth?.getStatus?.()).resolves.toEqual({ hostname: 'box' });
    expect(invoked).toEqual([['hearth:getStatus']]);
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
