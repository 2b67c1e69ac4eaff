import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { HearthError } from '../../../src-main/core/base/errors.js';
import type { PeerAdvert } from '../../../src-main/core/peers/discovery/advert.js';
import type { browse } from '../../../src-main/core/peers/discovery/mdns.js';
import { PeerDirectory, canConnect, type DirectoryClock, type PeerDirectoryOptions, type PeerState } from '../../../src-main/core/peers/peer-directory.js';

const SELF = '00000000-0000-4000-8000-000000000000';
const OURS = { release: 'v0.4.0', rpcProtocol: '6.0.0' };

function advert(n: number, overrides: Partial<PeerAdvert> = {}): PeerAdvert {
  return {
    id: `00000000-0000-4000-8000-00000000000${n}`,
    name: `machine ${n}`,
    version: '0.1.0',
    ...OURS,
    devices: [{ name: 'CUDA0', description: 'RTX 3090', totalBytes: 24e9, freeBytes: 20e9 }],
    cacheUsedBytes: 0,
    cacheCapBytes: 50e9,
    fingerprint: '0123456789abcdef',
    linkPort: 7000 + n,
    ...overrides,
  };
}

/** A clock whose intervals fire only when the test advances it. */
function fakeClock(): DirectoryClock & { advance(ms: number): Promise<void> } {
  let now = 1_000_000;
  const timers = new Set<{ ms: number; fn: () => void; next: number }>();
  return {
    now: () => now,
    every(ms, fn) {
      const timer = { ms, fn, next: now + ms };
      timers.add(timer);
      return () => timers.delete(timer);
    },
    async advance(ms) {
      const end = now + ms;
      for (;;) {
        const due = [...timers].filter((t) => t.next <= end).sort((a, b) => a.next - b.next)[0];
        if (!due) break;
        now = due.next;
        due.next += due.ms;
        due.fn();
        await settle();
      }
      now = end;
      await settle();
    },
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

/** A directory fed by a fake mDNS, with checks answered from `reachable`. */
async function setup(options: Partial<PeerDirectoryOptions> = {}) {
  const clock = fakeClock();
  const reachable = new Set<string>();
  const checks: string[] = [];
  let mdns: Parameters<typeof browse>[0] | null = null;
  const directory = new PeerDirectory({
    selfId: SELF,
    ours: OURS,
    clock,
    check: async (host, port) => {
      checks.push(`${host}:${port}`);
      return reachable.has(`${host}:${port}`);
    },
    browse: async (handlers) => {
      mdns = handlers;
      return { rescan: () => undefined, stop: async () => undefined };
    },
    ...options,
  });
  const events: [string, PeerState][] = [];
  for (const name of ['peer-up', 'peer-changed', 'peer-down'] as const) directory.on(name, (peer) => events.push([name, peer]));
  await directory.start();
  return { directory, clock, reachable, checks, events, mdns: mdns! };
}

describe('PeerDirectory', () => {
  it('lists a peer mDNS sees, once, with its compatibility', async () => {
    const { directory, mdns, events } = await setup();
    mdns.onUp(advert(1), ['10.77.0.1']);
    mdns.onUp(advert(1), ['10.77.0.1']);
    expect(events.map(([name, peer]) => [name, peer.advert.id])).toEqual([['peer-up', advert(1).id]]);
    expect(directory.peers()).toEqual([{
      advert: advert(1), addresses: ['10.77.0.1'], source: 'mdns', compatible: true, reason: null, online: true, lastSeenMs: 1_000_000,
    }]);
  });

  it('excludes itself', async () => {
    const { directory, mdns, events } = await setup();
    mdns.onUp(advert(1, { id: SELF }), ['10.77.0.9']);
    expect(events).toEqual([]);
    expect(directory.peers()).toEqual([]);
  });

  it('reports a changed advert, and an incompatible one with its reason', async () => {
    const { directory, mdns, events } = await setup();
    mdns.onUp(advert(1), ['10.77.0.1']);
    mdns.onUp(advert(1, { cacheUsedBytes: 5e9 }), ['10.77.0.1']);
    mdns.onUp(advert(1, { release: 'v0.3.0' }), ['10.77.0.1']);
    expect(events.map(([name]) => name)).toEqual(['peer-up', 'peer-changed', 'peer-changed']);
    expect(events[1]![1].advert.cacheUsedBytes).toBe(5e9);
    expect(directory.get(advert(1).id)).toMatchObject({ compatible: false, reason: expect.stringMatching(/runs llama.cpp v0.3.0 .* this machine runs v0.4.0/) });
  });

  it('drops a peer at once when it says goodbye', async () => {
    const { directory, mdns, events } = await setup();
    mdns.onUp(advert(1), ['10.77.0.1']);
    mdns.onDown(advert(1).id);
    mdns.onDown(advert(1).id);
    mdns.onDown(advert(2).id);
    expect(events.map(([name, peer]) => [name, peer.online])).toEqual([['peer-up', true], ['peer-down', false]]);
    expect(directory.peers()).toEqual([]);
  });

  it('drops a silent peer after 3 failed checks in a row, 2 s apart', async () => {
    const { directory, mdns, events, clock, reachable, checks } = await setup();
    reachable.add('10.77.0.1:7001');
    mdns.onUp(advert(1), ['10.77.0.1', '192.168.1.5']);
    await clock.advance(2000);
    expect(directory.get(advert(1).id)?.lastSeenMs).toBe(1_002_000);
    // Two failures, then an answer: the count starts again.
    reachable.clear();
    await clock.advance(4000);
    reachable.add('10.77.0.1:7001');
    await clock.advance(2000);
    reachable.clear();
    await clock.advance(4000);
    expect(events.map(([name]) => name)).toEqual(['peer-up']);
    await clock.advance(2000);
    expect(events.map(([name]) => name)).toEqual(['peer-up', 'peer-down']);
    expect(checks.every((target) => target === '10.77.0.1:7001')).toBe(true);
    expect(directory.peers()).toEqual([]);
  });

  it('never piles up checks of a peer that does not answer', async () => {
    let calls = 0;
    const { mdns, clock } = await setup({ check: () => { calls++; return new Promise(() => undefined); } });
    mdns.onUp(advert(1), ['10.77.0.1']);
    await clock.advance(10_000);
    expect(calls).toBe(1);
  });

  it('adds a peer by address, keeps it while offline, and brings it back when it answers', async () => {
    const probed: string[] = [];
    const { directory, events, clock, reachable } = await setup({
      probe: async (host, port) => {
        probed.push(`${host}:${port}`);
        return advert(3);
      },
    });
    const peer = await directory.addManual('gpu-box.lan', 9000);
    expect(peer).toMatchObject({ source: 'manual', addresses: ['gpu-box.lan'], online: true });
    // Liveness goes where the user said, not to the advertised port.
    reachable.add('gpu-box.lan:9000');
    await clock.advance(2000);
    reachable.clear();
    await clock.advance(6000);
    expect(events.map(([name]) => name)).toEqual(['peer-up', 'peer-down']);
    expect(directory.get(advert(3).id)).toMatchObject({ online: false, source: 'manual' });
    reachable.add('gpu-box.lan:9000');
    await clock.advance(2000);
    expect(events.map(([name]) => name)).toEqual(['peer-up', 'peer-down', 'peer-up']);
    expect(probed).toEqual(['gpu-box.lan:9000', 'gpu-box.lan:9000']);
    directory.removeManual(advert(3).id);
    expect(directory.peers()).toEqual([]);
    expect(events.at(-1)?.[0]).toBe('peer-down');
  });

  it('merges a manual peer with what mDNS sees of it', async () => {
    const { directory, mdns, events } = await setup({ probe: async () => advert(4) });
    await directory.addManual('10.77.0.4', 7004);
    mdns.onUp(advert(4), ['10.77.0.40']);
    expect(directory.peers()).toHaveLength(1);
    expect(directory.get(advert(4).id)).toMatchObject({ source: 'manual', addresses: ['10.77.0.40', '10.77.0.4'] });
    // A goodbye takes it offline, but a peer the user added stays listed.
    mdns.onDown(advert(4).id);
    expect(directory.get(advert(4).id)?.online).toBe(false);
    expect(events.map(([name]) => name)).toEqual(['peer-up', 'peer-changed', 'peer-down']);
  });

  it('explains why a manual peer cannot be added', async () => {
    const { directory } = await setup({ probe: async (host) => (host === 'self.lan' ? advert(0, { id: SELF }) : Promise.reject(new Error('connection refused'))) });
    await expect(directory.addManual('10.77.0.5', 7005)).rejects.toThrow(/No Hearth peer answered at 10.77.0.5:7005 \(connection refused\)/);
    await expect(directory.addManual('10.77.0.5', 70000)).rejects.toThrow(/70000 is not a port number/);
    await expect(directory.addManual('bad host; rm', 7005)).rejects.toBeInstanceOf(HearthError);
    await expect(directory.addManual('self.lan', 7000)).rejects.toThrow(/is this machine/);
    const withoutProbe = await setup();
    await expect(withoutProbe.directory.addManual('10.77.0.5', 7005)).rejects.toThrow(/needs the secure link/);
    expect(directory.peers()).toEqual([]);
  });

  it('fails to start when mDNS cannot start, and passes on its warnings', async () => {
    const failing = new PeerDirectory({ selfId: SELF, ours: OURS, clock: fakeClock(), browse: () => Promise.reject(new HearthError('mdns-unavailable', 'port 5353 is taken')) });
    await expect(failing.start()).rejects.toThrow(/port 5353 is taken/);

    const { directory, mdns } = await setup();
    const warnings: string[] = [];
    directory.on('warning', (message) => warnings.push(message));
    mdns.onWarning?.('ignored the Hearth advert from 10.77.0.8: "link" is missing');
    expect(warnings).toEqual(['ignored the Hearth advert from 10.77.0.8: "link" is missing']);
  });

  it('stops checking when stopped', async () => {
    const { directory, mdns, clock, checks } = await setup();
    mdns.onUp(advert(1), ['10.77.0.1']);
    await directory.stop();
    await clock.advance(10_000);
    expect(checks).toEqual([]);
  });
});

describe('canConnect', () => {
  it('tells a listening port from a closed one (loopback)', async () => {
    const server = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    expect(await canConnect('127.0.0.1', port, 1000)).toBe(true);
    await new Promise((resolve) => server.close(resolve));
    expect(await canConnect('127.0.0.1', port, 1000)).toBe(false);
  });
});
