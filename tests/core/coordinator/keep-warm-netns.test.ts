// Keep-warm across network namespaces with the real product: `hearth load` serves over the one
// worker there is; a second member joins (found by mDNS); keep-warm plans the model again over
// both and pushes the newcomer's share in the background; the next load over both then sends no
// cached tensor: every one comes from the members' caches.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hearthInLab, pairedMachines, startLabWorker, type LabMachine } from '../../helpers/lab-cluster.js';
import { scratchDir, syntheticModel } from '../../helpers/models.js';
import { canCreateNamespaces, createLab, type Lab } from '../../helpers/netns.js';

const namespaces = await canCreateNamespaces();
if (!namespaces.ok) console.log(`Skipping the keep-warm test: ${namespaces.reason}`);

interface CacheLine {
  peer: string;
  entriesTotal: number;
  entriesFromCache: number;
  entriesTransferred: number;
}

describe.skipIf(!namespaces.ok)('keep-warm', () => {
  let lab: Lab;
  let machines: LabMachine[];
  let model: string;

  beforeAll(async () => {
    model = await syntheticModel('cacheSized');
    lab = await createLab({ hosts: 3 });
    machines = await pairedMachines(lab, scratchDir);
  }, 300_000);

  afterAll(async () => {
    await lab?.destroy();
  });

  it('warms a member that joins after the load, so the next load sends no cached tensor', async () => {
    const [coordinator, first, joiner] = machines;
    await startLabWorker(lab, first!);
    const load = hearthInLab(lab, coordinator!, ['load', model, '--port', '0', '--wait', '4']);
    try {
      const ready = (await load.next('ready')) as { plan: { rpcPeers: string[] } };
      expect(ready.plan.rpcPeers).toHaveLength(1);
      // The load itself filled the first worker's cache: keep-warm finds nothing to do.
      await load.next('keep-warm', (event) => event.state === 'idle', 60_000);

      const joined = await startLabWorker(lab, joiner!);
      const joinerId = joined.events.find((event) => event.event === 'ready')!.deviceId;
      const warming = await load.next('keep-warm', (event) => event.state === 'warming', 60_000);
      expect(warming.model).toBe('cacheSized.gguf');
      await load.next('keep-warm', (event) => event.state === 'idle', 180_000);

      load.child.kill('SIGINT');
      await load.exited;
      const next = hearthInLab(lab, coordinator!, ['load', model, '--port', '0', '--wait', '4', '--no-keep-warm']);
      const again = (await next.next('ready')) as { plan: { rpcPeers: string[] }; cache: CacheLine[] };
      next.child.kill('SIGINT');
      await next.exited;
      expect(again.plan.rpcPeers).toContain(joinerId);
      expect(again.cache).toHaveLength(2);
      for (const peer of again.cache) expect(peer, peer.peer).toMatchObject({ entriesTransferred: 0, entriesFromCache: peer.entriesTotal });
    } finally {
      load.child.kill('SIGINT');
      await load.exited;
    }
  }, 400_000);
});
