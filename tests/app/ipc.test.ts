// The Electron binary cannot run here, so this drives ipc.ts through a stand-in for the one
// thing it takes from Electron (ipcMain) — the boundary, and nothing more.
import { EventEmitter } from 'node:events';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { MachineStatus } from '../../src-main/core/api/contract.js';
import type { HearthHost } from '../../src-main/core/api/host.js';
import { transportHost } from '../../src-main/core/api/transport-guard.js';
import { partialRequests } from '../helpers/partial-requests.js';
import { requestNames } from '../../src-main/core/api/contract.js';

type Handler = (event: { senderFrame: { url: string } | null }, ...args: unknown[]) => Promise<unknown>;
const handlers = vi.hoisted(() => new Map<string, Handler>());

vi.mock('electron', () => ({
  ipcMain: {
    handle: (channel: string, handler: Handler) => handlers.set(channel, handler),
    removeHandler: (channel: string) => handlers.delete(channel),
  },
}));

const { eventChannel, forwardEvents, registerRequestHandlers } = await import('../../src-main/app/ipc.js');

const appUrl = 'file:///opt/hearth/dist/renderer/index.html';
const status = { hostname: 'box' } as MachineStatus;
const events = new EventEmitter();
const host: HearthHost = {
  requests: partialRequests({ getStatus: async () => status }),
  on(event, listener) {
    events.on(event, listener);
    return () => events.off(event, listener);
  },
};

describe('registerRequestHandlers', () => {
  beforeEach(() => handlers.clear());

  it('registers one channel per request and answers the app page', async () => {
    const undo = registerRequestHandlers(Promise.resolve(transportHost(host)), appUrl);
    expect([...handlers.keys()]).toEqual(requestNames.map((name) => `hearth:${name}`));
    expect(handlers.has('hearth:openModel')).toBe(true);
    await expect(handlers.get('hearth:getStatus')?.({ senderFrame: { url: appUrl } })).resolves.toBe(status);
    undo();
    expect(handlers.size).toBe(0);
  });

  it('refuses other senders and unexpected arguments', async () => {
    registerRequestHandlers(Promise.resolve(transportHost(host)), appUrl);
    const handler = handlers.get('hearth:getStatus');
    await expect(handler?.({ senderFrame: { url: 'https://evil.example/' } })).rejects.toThrow(/not the Hearth window/);
    await expect(handler?.({ senderFrame: null })).rejects.toThrow(/not the Hearth window/);
    await expect(handler?.({ senderFrame: { url: appUrl } }, { x: 1 })).rejects.toThrow(/takes no argument/);
    // An argument of the wrong shape never reaches the core.
    await expect(handlers.get('hearth:openModel')?.({ senderFrame: { url: appUrl } }, { path: 42 })).rejects.toThrow(/"path" must be a non-empty string/);
    await expect(handlers.get('hearth:setPlanChoices')?.({ senderFrame: { url: appUrl } }, { contextLength: -1, shares: {}, exclude: [] })).rejects.toThrow(/contextLength/);
  });
});

describe('forwardEvents', () => {
  it('sends events only to live pages showing the app', () => {
    const sent: { to: string; channel: string; message: unknown }[] = [];
    const page = (url: string, destroyed = false) => ({
      isDestroyed: () => destroyed,
      getURL: () => url,
      send: (channel: string, message: unknown) => sent.push({ to: url, channel, message }),
    });
    const pages = [page(appUrl), page('https://evil.example/'), page(appUrl, true)];
    const undo = forwardEvents(transportHost(host), () => pages as never, appUrl);
    events.emit('status', status);
    expect(sent).toEqual([{ to: appUrl, channel: eventChannel, message: { event: 'status', payload: status } }]);
    undo();
    events.emit('status', status);
    expect(sent).toHaveLength(1);
  });
});
