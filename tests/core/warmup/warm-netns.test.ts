// Only each peer's own share crosses its link: a coordinator and two workers in network
// namespaces (10.77.0.0/24), `hearth warm` from the coordinator, and each worker's cable counters
// (the bytes its veth received) compared with the bytes of its share.
import { execFile, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveIdentity } from '../../../src-main/core/peers/cluster/cluster-identity.js';
import type { PeerWarmupReport } from '../../../src-main/core/warmup/warm-up.js';
import { HEARTH_BIN, REPO_ROOT } from '../../helpers/cli.js';
import { scratchDir, syntheticModel } from '../../helpers/models.js';
import { canCreateNamespaces, createLab, type Lab, type LabHost } from '../../helpers/netns.js';

const run = promisify(execFile);
const namespaces = await canCreateNamespaces();
if (!namespaces.ok) console.log(`Skipping the warm-up link test: ${namespaces.reason}`);

// TLS records, HTTP and the coverage questions ride along with the tensors: a few percent at most.
const TOLERANCE = 0.03;

interface Machine {
  host: LabHost;
  name: string;
  dataDir: string;
  process?: ChildProcess;
  linkPort?: number;
}

/** Bytes the host's cable has received so far (its veth's counter, read inside its namespace). */
async function receivedBytes(host: LabHost): Promise<number> {
  const { stdout } = await run('ip', ['-n', host.ns, '-s', '-j', 'link', 'show', 'dev', 'eth0'], { timeout: 10_000 });
  const [link] = JSON.parse(stdout) as { stats64: { rx: { bytes: number } } }[];
  return link!.stats64.rx.bytes;
}

/** Run `hearth args` in the host to its end; its JSON lines and exit code. */
async function hearthIn(lab: Lab, machine: Machine, args: string[]): Promise<{ code: number | null; events: Record<string, unknown>[]; stderr: string }> {
  const child = lab.exec(machine.host, process.execPath, [HEARTH_BIN, ...args], { cwd: REPO_ROOT, env: { ...process.env, HEARTH_DATA_DIR: machine.dataDir } });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const events: Record<string, unknown>[] = [];
  for await (const line of createInterface({ input: child.stdout! })) events.push(JSON.parse(line) as Record<string, unknown>);
  const code = child.exitCode ?? (await new Promise<number | null>((resolve) => child.once('exit', resolve)));
  return { code, events, stderr };
}

describe.skipIf(!namespaces.ok)('hearth warm across network namespaces', () => {
  let lab: Lab;
  let machines: Machine[];
  let model: string;

  beforeAll(async () => {
    model = await syntheticModel('cacheSized');
    lab = await createLab({ hosts: 3 });
    const clusterKey = randomBytes(32);
    machines = await Promise.all(lab.hosts.map(async (host, index) => {
      const name = index === 0 ? 'coordinator' : `worker-${index}`;
      const dataDir = scratchDir(`hearth-${name}-`);
      await saveIdentity(dataDir, { deviceId: randomUUID(), deviceName: name, clusterKey });
      return { host, name, dataDir };
    }));
    await Promise.all(machines.slice(1).map(async (machine) => {
      const child = lab.exec(machine.host, process.execPath, [
        HEARTH_BIN, 'worker', '--json', '--port', '0', '--rpc-port', '0', '--link-host', machine.host.address, '--no-discovery', '--cache-dir', scratchDir('hearth-cache-'),
      ], { cwd: REPO_ROOT, env: { ...process.env, HEARTH_DATA_DIR: machine.dataDir } });
      machine.process = child;
      for await (const line of createInterface({ input: child.stdout! })) {
        const event = JSON.parse(line) as { event: string; linkPort?: number };
        if (event.event === 'ready') {
          machine.linkPort = event.linkPort;
          return;
        }
      }
      throw new Error(`the worker in ${machine.host.name} exited before it was ready`);
    }));
  }, 300_000);

  afterAll(async () => {
    await lab?.destroy();
  });

  it('moves each worker\'s share over its own cable and nothing more', async () => {
    const [coordinator, ...workers] = machines;
    const peers = workers.map((machine) => `${machine.host.address}:${machine.linkPort}`).join(',');
    const before = await Promise.all(workers.map((machine) => receivedBytes(machine.host)));
    const warm = await hearthIn(lab, coordinator!, ['warm', model, '--peers', peers, '--no-discovery', '--json']);
    expect(warm.code, warm.stderr).toBe(0);
    const after = await Promise.all(workers.map((machine) => receivedBytes(machine.host)));
    const done = warm.events.at(-1) as { event: string; peers: PeerWarmupReport[] };
    expect(done.event).toBe('done');
    expect(done.peers).toHaveLength(2);

    for (const [index, machine] of workers.entries()) {
      const report = done.peers.find((peer) => peer.peer === machine.name)!;
      const received = after[index]! - before[index]!;
      console.log(`${machine.name}: share ${report.bytesTotal} bytes, pushed ${report.pushedBytes}, its cable received ${received} (${((received / report.bytesTotal - 1) * 100).toFixed(2)}% over)`);
      expect(report).toMatchObject({ state: 'done', pushedBytes: report.bytesTotal });
      expect(received).toBeGreaterThanOrEqual(report.bytesTotal);
      expect(received).toBeLessThanOrEqual(report.bytesTotal * (1 + TOLERANCE));
    }
    // The two shares differ: each cable carried its own, not the same stream twice.
    expect(done.peers[0]!.bytesTotal).not.toBe(done.peers[1]!.bytesTotal);
  }, 180_000);
});
