// What a transport may do by how it carries requests: over plain HTTP across the LAN, no pairing
// code is shown, accepted or even sent along with the cluster's view, and Open LAN stays as it is;
// over HTTPS, loopback and the app's IPC, all of it works.
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { ClusterStatus, HearthEvents, SettingsView } from '../../../src-main/core/api/contract.js';
import type { HearthHost, TransportKind } from '../../../src-main/core/api/host.js';
import { guardedHost, transportHost } from '../../../src-main/core/api/transport-guard.js';
import { partialRequests } from '../../helpers/partial-requests.js';

const pairing = { code: '7K2M-Q9XD-4TRA', expiresAt: Date.now() + 600_000 };
const cluster: ClusterStatus = { fingerprint: '0123456789abcdef', peers: [], pairing, unavailable: null };
const settings = { openLan: false } as SettingsView;

/** A core that records what reached it. */
function recordingHost(): HearthHost & { reached: string[]; events: EventEmitter } {
  const reached: string[] = [];
  const events = new EventEmitter();
  return {
    reached,
    events,
    requests: partialRequests({
      showPairingCode: async () => (reached.push('showPairingCode'), pairing),
      joinCluster: async () => (reached.push('joinCluster'), cluster),
      getCluster: async () => cluster,
      updateSettings: async (change) => (reached.push(`updateSettings ${JSON.stringify(change)}`), settings),
      getStatus: async () => (reached.push('getStatus'), {} as never),
    }),
    on<E extends keyof HearthEvents>(event: E, listener: (payload: HearthEvents[E]) => void) {
      events.on(event, listener);
      return () => events.off(event, listener);
    },
  };
}

describe('guardedHost over plain HTTP on the LAN', () => {
  it('refuses to show or accept a pairing code, or to switch Open LAN, and nothing reaches the core', async () => {
    const core = recordingHost();
    const { requests } = guardedHost(core, 'lan-http');
    await expect(requests.showPairingCode()).rejects.toMatchObject({ code: 'insecure-transport', message: expect.stringMatching(/^Cannot show a pairing code over plain HTTP on the network.*https:\/\//) });
    await expect(requests.joinCluster({ code: pairing.code })).rejects.toMatchObject({ code: 'insecure-transport' });
    await expect(requests.updateSettings({ openLan: true })).rejects.toMatchObject({ code: 'insecure-transport', message: expect.stringContaining('switch Open LAN') });
    await expect(requests.updateSettings({ openLan: false, cacheMaxBytes: 1 })).rejects.toMatchObject({ code: 'insecure-transport' });
    expect(core.reached).toEqual([]);
    // The rest works as usual.
    await requests.updateSettings({ cacheMaxBytes: 1 });
    await requests.getStatus();
    expect(core.reached).toEqual(['updateSettings {"cacheMaxBytes":1}', 'getStatus']);
  });

  it('never sends an open pairing code along with the cluster, asked for or as an event', async () => {
    const core = recordingHost();
    const view = guardedHost(core, 'lan-http');
    expect(await view.requests.getCluster()).toEqual({ ...cluster, pairing: null });
    const heard: ClusterStatus[] = [];
    const off = view.on('cluster', (status) => heard.push(status));
    core.events.emit('cluster', cluster);
    off();
    core.events.emit('cluster', cluster);
    expect(heard).toEqual([{ ...cluster, pairing: null }]);
  });
});

describe('guardedHost over a channel no one else reads', () => {
  it.each<TransportKind>(['https', 'loopback-http', 'electron-ipc'])('%s: pairing and Open LAN work', async (kind) => {
    const core = recordingHost();
    const { requests } = transportHost(core).over(kind);
    expect(await requests.showPairingCode()).toEqual(pairing);
    await requests.joinCluster({ code: pairing.code });
    await requests.updateSettings({ openLan: true });
    expect(await requests.getCluster()).toEqual(cluster);
    expect(core.reached).toEqual(['showPairingCode', 'joinCluster', 'updateSettings {"openLan":true}']);
  });
});
