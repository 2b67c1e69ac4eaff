// Issue 17 on the lab it was seen on: network namespaces on a bridge (10.77.0.0/24), each cable
// shaped to 1 Gbit, a coordinator that runs its own worker, two member workers, and `hearth warm`
// then `hearth load` with the same peers. What hung for 20 minutes before (a worker held by a
// coordinator that vanished, a cable unplugged during a load or a chat) now ends in seconds, says
// which machine and why, and shows the logs involved; a worker a vanished coordinator held is
// freed, and the next warm-up and load go through.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memberDataDir, startHearth, stopped, type Event, type Running } from '../../helpers/hearth-process.js';
import { scratchDir, syntheticModel } from '../../helpers/models.js';
import { canCreateNamespaces, createLab, type Lab, type LabHost } from '../../helpers/netns.js';

const run = promisify(execFile);
const namespaces = await canCreateNamespaces();
if (!namespaces.ok) console.log(`Skipping the lost-peer tests: ${namespaces.reason}`);

interface Machine {
  host: LabHost;
  name: string;
  dataDir: string;
  worker?: Running;
  linkPort?: number;
}

const LOAD_FLAGS = ['--no-discovery', '--ctx', '256', '--port', '0', '--json'];

/** The error a `--json` command ended with (its last stdout line), or null. */
function errorOf(running: Running): { code: string; message: string } | null {
  const last = running.events.at(-1) as { error?: { code: string; message: string } } | undefined;
  return last?.error ?? null;
}

/** The next `name` event from now on (`next` would also find one already seen). */
function upcoming(running: Running, name: string, match: (event: Event) => boolean): Promise<Event> {
  const seen = new Set(running.events);
  return running.next(name, (event) => !seen.has(event) && match(event));
}

/** Re-shape a host's cable (the lab's tbf qdisc) to `rate`. */
async function shape(host: LabHost, rate: string): Promise<void> {
  await run('ip', ['netns', 'exec', host.ns, 'tc', 'qdisc', 'change', 'dev', 'eth0', 'root', 'tbf', 'rate', rate, 'burst', '256kb', 'latency', '50ms'], { timeout: 10_000 });
}

describe.skipIf(!namespaces.ok)('a peer that stops answering (issue 17 lab)', () => {
  let lab: Lab;
  let coordinator: Machine;
  let workers: Machine[];
  let vanishing: Machine;
  let model: string;
  let peers: string;
  const inHost = (machine: Machine) => (command: string, args: string[], options: object) => lab.exec(machine.host, command, args, options);
  const hearth = (machine: Machine, args: string[]) => startHearth(args, { HEARTH_DATA_DIR: machine.dataDir }, inHost(machine));

  beforeAll(async () => {
    model = await syntheticModel('cacheSized');
    lab = await createLab({ hosts: 4, rate: '1gbit' });
    const clusterKey = randomBytes(32);
    const names = ['coordinator', 'worker-1', 'worker-2', 'other-coordinator'];
    const machines: Machine[] = await Promise.all(lab.hosts.map(async (host, i) => ({ host, name: names[i]!, dataDir: await memberDataDir(clusterKey, names[i]!) })));
    [coordinator, workers, vanishing] = [machines[0]!, machines.slice(1, 3), machines[3]!];
    // The coordinator runs its own worker too, as in the issue; it is not one of the peers.
    await Promise.all([coordinator, ...workers].map(async (machine) => {
      machine.worker = hearth(machine, ['worker', '--json', '--port', '0', '--rpc-port', '0', '--link-host', machine.host.address, '--no-discovery', '--cache-dir', scratchDir('hearth-cache-')]);
      machine.linkPort = Number((await machine.worker.next('ready')).linkPort);
    }));
    peers = workers.map((machine) => `${machine.host.address}:${machine.linkPort}`).join(',');
  }, 300_000);

  afterAll(async () => {
    await lab?.destroy();
  });

  it('fails a load whose worker is unplugged mid-transfer within seconds, naming it, with the logs involved', async () => {
    const [, second] = workers;
    // Slow enough that the load is still sending worker-2 its share when its cable is pulled.
    await shape(second!.host, '8mbit');
    const load = hearth(coordinator, ['load', model, '--peers', peers, ...LOAD_FLAGS]);
    // The unplugged worker drops the coordinator it can no longer hear, freeing its RPC server.
    const dropped = upcoming(second!.worker!, 'peer-silent', (event) => event.address === coordinator.host.address && event.why === 'silent');
    try {
      await load.next('load-progress', (event: Event) => event.peer === 'worker-2' && Number(event.bytesTransferred) > 2 ** 20);
      await lab.linkDown(second!.host);
      expect(await load.exit).toBe(1);
      const error = errorOf(load);
      expect(error?.code).toBe('model-load-failed');
      expect(error?.message).toMatch(/worker-2 stopped answering: no heartbeat for \d+ s/);
      // What llama-server lost, its own lines, then the unplugged worker's log, which cannot be read: said so.
      expect(error?.message).toMatch(/killed by SIGABRT while loading the model: \S+ggml-rpc\.cpp:\d+: RPC server 127\.0\.0\.1:\d+ closed the connection/);
      expect(error?.message).toMatch(/Its last output:\n[^]*load_model: loading model/);
      expect(error?.message).toMatch(/worker-2's worker log could not be read/);
      await dropped;
    } finally {
      await stopped(load);
      await lab.linkUp(second!.host);
      await shape(second!.host, '1gbit');
    }
  }, 180_000);

  it('frees workers held by a coordinator that vanished; warm then load then loads and answers (the stuck load)', async () => {
    // Another coordinator loads the model, holding both workers' RPC servers (one client each),
    // then drops off the network without a word: before, its dead connections kept the workers
    // busy for good, and the next load waited behind them in silence, printing nothing.
    const holder = hearth(vanishing, ['load', model, '--peers', peers, ...LOAD_FLAGS]);
    await holder.next('ready');
    const silent = workers.map((machine) => upcoming(machine.worker!, 'peer-silent', (event) => event.address === vanishing.host.address));
    await lab.linkDown(vanishing.host);
    for (const event of await Promise.all(silent)) expect(Number(event.streams)).toBeGreaterThan(0);

    const warm = hearth(coordinator, ['warm', model, '--peers', peers, '--no-discovery', '--json']);
    const done = await warm.next('done');
    expect((done.peers as { state: string }[]).map((peer) => peer.state)).toEqual(['done', 'done']);
    expect(await warm.exit).toBe(0);

    const load = hearth(coordinator, ['load', model, '--peers', peers, ...LOAD_FLAGS]);
    try {
      const ready = await load.next('ready');
      const cache = ready.cache as { entriesTotal: number; entriesFromCache: number }[];
      expect(cache.map((peer) => peer.entriesFromCache)).toEqual(cache.map((peer) => peer.entriesTotal));
      const chat = startHearth(['chat', '--message', 'Hello', '--max-tokens', '4', '--temperature', '0', '--json'], { HEARTH_DATA_DIR: coordinator.dataDir }, inHost(coordinator));
      expect((await chat.next('answer')).tokens).toBeGreaterThan(0);
    } finally {
      expect(await stopped(load), load.stderr()).toBe(0);
      await stopped(holder);
    }
  }, 240_000);

  it('fails a chat whose worker is unplugged within seconds, naming it, and serves again without it', async () => {
    const [first] = workers;
    const load = hearth(coordinator, ['load', model, '--peers', peers, ...LOAD_FLAGS]);
    const dropped = upcoming(first!.worker!, 'peer-silent', (event) => event.address === coordinator.host.address && event.why === 'silent');
    try {
      await load.next('ready');
      await lab.linkDown(first!.host);
      const chat = startHearth(['chat', '--message', 'Hello', '--max-tokens', '64', '--temperature', '0', '--json'], { HEARTH_DATA_DIR: coordinator.dataDir }, inHost(coordinator));
      expect(await chat.exit).toBe(1);
      // Ended at once, naming the lost peer: the model is being loaded again without it.
      expect(errorOf(chat)?.message).toMatch(/worker-1 stopped answering: no heartbeat for \d+ s/);
      // The served model heals: loaded again over what is left, the lost peer named.
      const healing = await load.next('healing');
      expect(String(healing.reason)).toMatch(/worker-1 stopped answering/);
      await load.next('healed');
      await dropped;
    } finally {
      await stopped(load);
      await lab.linkUp(first!.host);
    }
  }, 180_000);
});
