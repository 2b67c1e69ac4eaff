// A served model heals, across network namespaces with the real product: `hearth load` over two
// workers found by mDNS; one worker killed with SIGKILL, or its cable pulled at the switch (no
// FIN, nothing said), is noticed, the model is loaded again over what is left, and the API answers
// with the same greedy text as a local load; the peer, once back, is offered again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTools } from '../../../src-main/core/native/tools.js';
import { startLlamaServer } from '../../helpers/llama-server.js';
import { completeInside, hearthInLab, killHard, pairedMachines, startLabWorker, type LabMachine, type LabProcess } from '../../helpers/lab-cluster.js';
import { scratchDir, syntheticModel } from '../../helpers/models.js';
import { canCreateNamespaces, createLab, type Lab } from '../../helpers/netns.js';

const namespaces = await canCreateNamespaces();
if (!namespaces.ok) console.log(`Skipping the heal tests: ${namespaces.reason}`);

const PROMPT = 'A lost peer costs a warm reload';
const TOKENS = 8;
/** A kill is seen when the link closes; a silent cable when the link's heartbeat gives up (4 s of silence). */
const NOTICE_KILL_MS = 5_000;
const NOTICE_SILENT_MS = 5_000;

describe.skipIf(!namespaces.ok)('a served model heals', () => {
  let lab: Lab;
  let machines: LabMachine[];
  let workers: LabProcess[];
  let model: string;
  let local: string;

  beforeAll(async () => {
    const tools = await ensureTools();
    model = await syntheticModel('cacheSized');
    const reference = await startLlamaServer({ llamaServer: tools.llamaServer, cwd: tools.cwd, env: tools.env, model, args: ['-ngl', '0'] });
    const body = { model: 'any', prompt: PROMPT, max_tokens: TOKENS, temperature: 0, top_k: 1, seed: 1, ignore_eos: true, cache_prompt: false };
    local = ((await (await fetch(`${reference.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json()) as { choices: { text: string }[] }).choices[0]!.text;
    await reference.stop();
    lab = await createLab({ hosts: 3 });
    machines = await pairedMachines(lab, scratchDir);
    workers = await Promise.all(machines.slice(1).map((machine) => startLabWorker(lab, machine)));
  }, 300_000);

  afterAll(async () => {
    await lab?.destroy();
  });

  /** `hearth load` on the first machine, serving across both workers. */
  async function serveAcrossBoth(): Promise<{ load: LabProcess; api: string; ids: string[] }> {
    const load = hearthInLab(lab, machines[0]!, ['load', model, '--port', '0', '--wait', '5', '--no-keep-warm']);
    const ready = (await load.next('ready')) as { api: string; plan: { rpcPeers: string[] } };
    expect(ready.plan.rpcPeers).toHaveLength(2);
    expect((await completeInside(lab, machines[0]!, ready.api, PROMPT, TOKENS)).text).toBe(local);
    return { load, api: ready.api, ids: ready.plan.rpcPeers };
  }

  it('notices a worker killed with SIGKILL, serves again without it with the same answer, and says when it is back', async () => {
    const { load, api } = await serveAcrossBoth();
    const victim = workers[1]!.events.find((event) => event.event === 'ready')!;
    try {
      const killedAt = Date.now();
      killHard(workers[1]!);
      const healing = (await load.next('healing', undefined, 60_000)) as { lost: string[]; reason: string };
      const noticeMs = Date.now() - killedAt;
      console.log(`kill -9 noticed in ${noticeMs} ms: ${healing.reason}`);
      expect(noticeMs).toBeLessThan(NOTICE_KILL_MS);
      expect(healing.lost).toEqual([victim.deviceId]);
      const healed = (await load.next('healed', undefined, 120_000)) as { plan: { rpcPeers: string[] } };
      expect(healed.plan.rpcPeers).not.toContain(victim.deviceId);
      console.log(`serving again ${Date.now() - killedAt} ms after the kill`);
      expect((await completeInside(lab, machines[0]!, api, PROMPT, TOKENS)).text).toBe(local);

      workers[1] = await startLabWorker(lab, machines[2]!);
      const back = await load.next('peer-back', (event) => event.peerId === victim.deviceId, 60_000);
      expect(back.peer).toBe(machines[2]!.name);
    } finally {
      load.child.kill('SIGINT');
      await load.exited;
    }
  }, 300_000);

  it('notices a cable pulled at the switch (no FIN, nothing said) within the bound and serves again without that peer', async () => {
    const { load, api } = await serveAcrossBoth();
    const cut = machines[1]!;
    try {
      const cutAt = Date.now();
      await lab.linkDown(cut.host);
      const healing = (await load.next('healing', undefined, 60_000)) as { lost: string[]; reason: string };
      const noticeMs = Date.now() - cutAt;
      console.log(`pulled cable noticed in ${noticeMs} ms: ${healing.reason}`);
      expect(noticeMs).toBeLessThan(NOTICE_SILENT_MS);
      expect(healing.lost).toHaveLength(1);
      await load.next('healed', undefined, 120_000);
      expect((await completeInside(lab, machines[0]!, api, PROMPT, TOKENS)).text).toBe(local);
    } finally {
      await lab.linkUp(cut.host);
      load.child.kill('SIGINT');
      await load.exited;
    }
  }, 300_000);
});
