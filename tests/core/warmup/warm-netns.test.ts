// Only each peer's own share crosses its link: a coordinator and workers in network namespaces
// (10.77.0.0/24), `hearth warm` from the coordinator, and each worker's cable counters (the
// bytes its veth received) compared with the bytes of its share. A worker with its own copy of
// the model fills its cache from it: no model bytes on its cable at all.
import { execFile, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
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
  /** Worker flags beyond the common ones. */
  extra?: string[];
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
    // The third worker holds the same model under another name in a folder of its own.
    const models = path.join(scratchDir('hearth-models-'), 'library');
    await mkdir(models);
    await copyFile(model, path.join(models, 'my-copy-of-the-model.gguf'));
    lab = await createLab({ hosts: 4 });
    const clusterKey = randomBytes(32);
    machines = await Promise.all(lab.hosts.map(async (host, index) => {
      const name = index === 0 ? 'coordinator' : `worker-${index}`;
      const dataDir = scratchDir(`hearth-${name}-`);
      await saveIdentity(dataDir, { deviceId: randomUUID(), deviceName: name, clusterKey });
      return { host, name, dataDir, extra: index === 3 ? ['--models', models] : [] };
    }));
    await Promise.all(machines.slice(1).map(async (machine) => {
      const child = lab.exec(machine.host, process.execPath, [
        HEARTH_BIN, 'worker', '--json', '--port', '0', '--rpc-port', '0', '--link-host', machine.host.address, '--no-discovery', '--cache-dir', scratchDir('hearth-cache-'), ...machine.extra!,
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
    const [coordinator, ...workers] = machines.slice(0, 3);
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

  it('fills a worker that has its own copy of the model from its disk: no model bytes on its cable', async () => {
    const [coordinator, , , holder] = machines;
    const before = await receivedBytes(holder!.host);
    const warm = await hearthIn(lab, coordinator!, ['warm', model, '--peers', `${holder!.host.address}:${holder!.linkPort}`, '--no-discovery', '--json']);
    expect(warm.code, warm.stderr).toBe(0);
    const received = (await receivedBytes(holder!.host)) - before;
    const done = warm.events.at(-1) as { event: string; peers: PeerWarmupReport[] };
    const [report] = done.peers;
    console.log(`${holder!.name}: share ${report!.bytesTotal} bytes, filled ${report!.filledBytes} from its own disk, its cable received ${received}`);
    expect(report).toMatchObject({ state: 'done', filledBytes: report!.bytesTotal, pushedBytes: 0 });
    expect(report!.bytesTotal).toBeGreaterThan(50 * 2 ** 20);
    // Only requests and answers crossed: far below one tensor over 10 MiB.
    expect(received).toBeLessThan(2 ** 20);
  }, 180_000);
});
