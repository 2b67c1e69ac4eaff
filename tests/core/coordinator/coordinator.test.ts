// The coordinator over two real member workers on loopback: planning opens no link, the first
// question to a peer opens one control stream, and moving shares back and forth (as the Split
// screen's sliders do) plans again over the same links, opening nothing; a load then opens one
// RPC stream per peer, and serves.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Coordinator } from '../../../src-main/core/coordinator/coordinator.js';
import { discoverMembers, type DiscoveredMembers } from '../../../src-main/core/coordinator/discover-members.js';
import { ensureTools } from '../../../src-main/core/native/tools.js';
import { readPlanModel } from '../../../src-main/core/planner/model-shape.js';
import type { PlanModel } from '../../../src-main/core/planner/plan-types.js';
import { memberDataDir, startMemberWorker, stopped, type Running } from '../../helpers/hearth-process.js';
import { syntheticModel } from '../../helpers/models.js';

const clusterKey = randomBytes(32);
const workers: Running[] = [];
let members: DiscoveredMembers;
let coordinator: Coordinator;
let model: PlanModel;

beforeAll(async () => {
  const tools = await ensureTools();
  model = await readPlanModel(await syntheticModel('cacheSized'));
  for (const name of ['worker-a', 'worker-b']) workers.push((await startMemberWorker(clusterKey, name)).running);
  const ready = await Promise.all(workers.map((worker) => worker.next('ready')));
  const dataDir = await memberDataDir(clusterKey, 'coordinator');
  members = await discoverMembers({ dataDir, ours: tools, manual: ready.map((event) => ({ host: '127.0.0.1', port: Number(event.linkPort) })), discovery: false });
  coordinator = new Coordinator({ tools, dataDir, members });
}, 120_000);

afterAll(async () => {
  await coordinator?.close();
  await members?.stop();
  for (const worker of workers) await stopped(worker);
}, 60_000);

describe('the coordinator\'s links', () => {
  it('opens none to plan, one control stream per peer to ask, and none more while the shares move', async () => {
    const first = await coordinator.plan(model).result;
    expect(first.plan.rpcPeers).toHaveLength(2);
    expect(coordinator.linkCounts()).toEqual({ control: 0, rpc: 0 });

    const coverage = await coordinator.coverage(first);
    expect((await coverage!.refresh()).map((peer) => peer.error)).toEqual([null, null]);
    const asked = coordinator.linkCounts();
    expect(asked).toEqual({ control: 2, rpc: 0 });

    const [a, b] = first.plan.devices.map((device) => device.device.id);
    for (const [wa, wb] of [[1, 3], [3, 1], [1, 1], [2, 1], [1, 2], [5, 1], [1, 5], [1, 1]] as const) {
      const planned = await coordinator.plan(model, { shares: { [a!]: wa, [b!]: wb } }).result;
      // What a re-plan shows: the coverage of the new shares (a peer given no cached tensor has none), asked over the same links.
      const answers = await (await coordinator.coverage(planned))!.refresh();
      expect(answers.length).toBeGreaterThan(0);
      expect(answers.every((peer) => peer.error === null)).toBe(true);
    }
    expect(coordinator.linkCounts()).toEqual(asked);
  }, 120_000);

  it('opens the RPC streams when the load starts, one per peer, and serves', async () => {
    const planned = await coordinator.plan(model).result;
    expect(coordinator.linkCounts().rpc).toBe(0);
    const run = coordinator.load(planned, { host: '127.0.0.1', port: 0 });
    const served = await run.result;
    expect(served.api.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    expect(served.cache.map((peer) => peer.entriesTotal).every((total) => total > 0)).toBe(true);
    // patch 0007: one connection per server for the whole load.
    expect(coordinator.linkCounts().rpc).toBe(2);
    await coordinator.unload();
  }, 120_000);
});
