// Real mDNS between two machines of a namespace lab: an advertiser process on host1, a
// PeerDirectory (real mDNS, real TCP checks) on host2. Times are measured from the processes'
// own timestamps, so a slow test runner does not blur them.
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canCreateNamespaces, createLab, type Lab, type LabHost } from '../../helpers/netns.js';

interface Event {
  event: string;
  atMs: number;
  [key: string]: unknown;
}

const TSX = 'node_modules/.bin/tsx';
const support = await canCreateNamespaces();
if (!support.ok) console.log(`skipped: real-mDNS discovery tests need network namespaces: ${support.reason}`);

/** A fixture process in the lab: its JSON events, a bounded wait for one, and its stdin. */
function startFixture(lab: Lab, host: LabHost, script: string, args: string[]) {
  const child = lab.exec(host, TSX, [script, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const events: Event[] = [];
  const waiters = new Set<() => void>();
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => { stderr = (stderr + String(chunk)).slice(-4000); });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      events.push(JSON.parse(line) as Event);
    } catch {
      return; // not an event
    }
    for (const wake of waiters) wake();
  });
  child.once('exit', () => { for (const wake of waiters) wake(); });
  return {
    child,
    events,
    send: (command: string) => child.stdin!.write(`${command}\n`),
    /** The first event after index `since` that matches, or a rejection after `timeoutMs`. */
    waitFor(match: (event: Event) => boolean, timeoutMs: number, what: string, since = 0): Promise<Event> {
      return new Promise((resolve, reject) => {
        const look = () => {
          const found = events.slice(since).find(match);
          if (!found && child.exitCode === null && child.signalCode === null) return;
          waiters.delete(look);
          clearTimeout(timer);
          if (found) resolve(found);
          else reject(new Error(`${script} exited before ${what}; stderr: ${stderr}`));
        };
        const timer = setTimeout(() => {
          waiters.delete(look);
          reject(new Error(`no ${what} within ${timeoutMs / 1000} s; events: ${JSON.stringify(events)}; stderr: ${stderr}`));
        }, timeoutMs);
        waiters.add(look);
        look();
      });
    },
  };
}

describe.skipIf(!support.ok)('mDNS discovery across network namespaces', () => {
  let lab: Lab;
  let a: LabHost;
  let b: LabHost;
  let browser: ReturnType<typeof startFixture>;

  const startAdvertiser = async (id: string) => {
    const spawnedAt = Date.now();
    const advertiser = startFixture(lab, a, 'tests/fixtures/mdns-advertiser.ts', ['--id', id, '--host', a.address, '--name', 'host1']);
    const ready = await advertiser.waitFor((e) => e.event === 'ready', 20_000, 'advertiser ready');
    return { advertiser, ready, spawnedAt };
  };
  const peerEvent = (name: string, id: string) => (e: Event) => e.event === name && e.id === id;

  beforeAll(async () => {
    lab = await createLab({ hosts: 2, rate: '1gbit' });
    [a, b] = lab.hosts as [LabHost, LabHost];
    // The browser listens on all its interfaces, the advertiser on one: both ways are exercised.
    browser = startFixture(lab, b, 'tests/fixtures/mdns-browser.ts', ['--self', randomUUID()]);
    await browser.waitFor((e) => e.event === 'ready', 20_000, 'browser ready');
  });

  afterAll(async () => {
    browser?.child.stdin?.end();
    await lab?.destroy();
  });

  it('shows a new peer within 3 s of it starting, and its changes', async () => {
    const id = randomUUID();
    const { advertiser, ready, spawnedAt } = await startAdvertiser(id);
    const up = await browser.waitFor(peerEvent('peer-up', id), 10_000, 'peer-up');
    console.log(`appeared ${up.atMs - ready.atMs} ms after the advertiser started (${up.atMs - spawnedAt} ms after its process was spawned)`);
    expect(up.atMs - ready.atMs).toBeLessThan(3000);
    expect(up).toMatchObject({ name: 'host1', addresses: [a.address], online: true, compatible: true });

    // A second browser on the same machine shares UDP 5353 with the first and finds the running peer at once.
    const late = startFixture(lab, b, 'tests/fixtures/mdns-browser.ts', ['--self', randomUUID(), '--host', b.address]);
    const lateReady = await late.waitFor((e) => e.event === 'ready', 20_000, 'second browser ready');
    const lateUp = await late.waitFor(peerEvent('peer-up', id), 10_000, 'peer-up at the second browser');
    console.log(`a browser started later found it ${lateUp.atMs - lateReady.atMs} ms after it started`);
    expect(lateUp.atMs - lateReady.atMs).toBeLessThan(3000);
    late.child.stdin!.end();

    const since = browser.events.length;
    advertiser.send('update');
    const changed = await browser.waitFor(peerEvent('peer-changed', id), 10_000, 'peer-changed', since);
    expect(changed.cacheUsedBytes).toBe(2 ** 20);
    expect(browser.events.slice(since).filter((e) => e.id === id).map((e) => e.event)).toEqual(['peer-changed']);

    const stopAt = Date.now();
    advertiser.send('stop');
    const down = await browser.waitFor(peerEvent('peer-down', id), 10_000, 'peer-down after goodbye');
    console.log(`dropped ${down.atMs - stopAt} ms after it was told to stop (goodbye)`);
    expect(down.atMs - stopAt).toBeLessThan(1000);
    await advertiser.waitFor((e) => e.event === 'stopped', 10_000, 'advertiser stopped');
  });

  it('drops a peer whose process is killed (no goodbye) within 10 s', async () => {
    const id = randomUUID();
    const { ready } = await startAdvertiser(id);
    await browser.waitFor(peerEvent('peer-up', id), 10_000, 'peer-up');
    // The advertiser's own pid: tsx runs it as a child of the process lab.exec started.
    const killedAt = Date.now();
    process.kill(ready.pid as number, 'SIGKILL');
    const down = await browser.waitFor(peerEvent('peer-down', id), 15_000, 'peer-down after SIGKILL');
    console.log(`dropped ${down.atMs - killedAt} ms after SIGKILL`);
    expect(down.atMs - killedAt).toBeLessThan(10_000);
  });

  it('drops a peer that vanishes from the LAN within 10 s, and finds it again when it returns', async () => {
    const id = randomUUID();
    const { advertiser } = await startAdvertiser(id);
    await browser.waitFor(peerEvent('peer-up', id), 10_000, 'peer-up');
    const since = browser.events.length;
    const unpluggedAt = Date.now();
    await lab.linkDown(a);
    const down = await browser.waitFor(peerEvent('peer-down', id), 15_000, 'peer-down after unplugging', since);
    console.log(`dropped ${down.atMs - unpluggedAt} ms after its cable was pulled`);
    expect(down.atMs - unpluggedAt).toBeLessThan(10_000);

    const pluggedAt = Date.now();
    await lab.linkUp(a);
    const back = await browser.waitFor(peerEvent('peer-up', id), 20_000, 'peer-up after plugging back', since);
    console.log(`found again ${back.atMs - pluggedAt} ms after its cable was plugged back (browser rescans every 10 s)`);
    advertiser.send('stop');
    await advertiser.waitFor((e) => e.event === 'stopped', 10_000, 'advertiser stopped');
  });

  it('fails with an actionable error when another program holds the mDNS port exclusively', async () => {
    // A socket without SO_REUSEADDR: bonjour-service's socket (with it) cannot share the port.
    const holder = lab.exec(a, process.execPath, ['-e', "require('dgram').createSocket({ type: 'udp4', reuseAddr: false }).bind(5353, () => console.log('held'))"], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the port holder did not start within 10 s')), 10_000);
      holder.stdout!.once('data', () => { clearTimeout(timer); resolve(); });
    });
    const advertiser = startFixture(lab, a, 'tests/fixtures/mdns-advertiser.ts', ['--id', randomUUID(), '--host', a.address]);
    const fatal = await advertiser.waitFor((e) => e.event === 'fatal', 20_000, 'a fatal error');
    expect(fatal).toMatchObject({ code: 'mdns-unavailable', message: expect.stringMatching(/holds UDP port 5353 \(mDNS\).*add peers by address/) });
    holder.kill('SIGKILL');
  });
});
