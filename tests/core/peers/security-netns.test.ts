// What a machine that is not a member can do to a worker across a real network: nothing.
import { execFile, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTools } from '../../../src-main/core/native/tools.js';
import { HEARTH_BIN, REPO_ROOT } from '../../helpers/cli.js';
import { scratchDir } from '../../helpers/models.js';
import { canCreateNamespaces, createLab, type Lab } from '../../helpers/netns.js';

const namespaces = await canCreateNamespaces();
if (!namespaces.ok) console.log(`Skipping the security test: ${namespaces.reason}`);

describe.skipIf(!namespaces.ok)('the worker seen from a machine outside the cluster', () => {
  let lab: Lab;
  let worker: ChildProcess;
  const events: { event: string; kind?: string; reason?: string }[] = [];
  let ready: { linkPort: number; rpc: string; control: string; deviceId: string };
  const dataDir = scratchDir('hearth-data-');

  beforeAll(async () => {
    await ensureTools();
    lab = await createLab({ hosts: 2 });
    const [member] = lab.hosts;
    worker = lab.exec(member!, process.execPath, [HEARTH_BIN, 'worker', '--json', '--port', '0', '--rpc-port', '0', '--link-host', member!.address, '--cache-dir', scratchDir()], {
      cwd: REPO_ROOT,
      env: { ...process.env, HEARTH_DATA_DIR: dataDir },
    });
    const lines = createInterface({ input: worker.stdout! })[Symbol.asyncIterator]();
    for (;;) {
      const { value, done } = await lines.next();
      if (done) throw new Error('the worker exited before it was ready');
      const event = JSON.parse(String(value)) as { event: string };
      if (event.event === 'ready') {
        ready = event as unknown as typeof ready;
        break;
      }
    }
    void (async () => {
      for (;;) {
        const { value, done } = await lines.next();
        if (done) return;
        events.push(JSON.parse(String(value)) as (typeof events)[number]);
      }
    })();
  }, 120_000);

  afterAll(() => lab?.destroy());

  it('refuses or fails the handshake on every port, lets no RPC command through, and keeps serving members', async () => {
    const [member, outsider] = lab.hosts;
    // Every TCP port the worker's namespace listens on, as the kernel reports them.
    const { stdout } = await promisify(execFile)('ip', ['netns', 'exec', member!.ns, 'ss', '-Hltn']);
    const local = stdout.split('\n').filter(Boolean).map((line) => line.trim().split(/\s+/)[3] ?? '');
    const ports = [...new Set(local.map((address) => Number(address.slice(address.lastIndexOf(':') + 1))))];
    expect(ports).toContain(ready.linkPort);

    const identity = JSON.parse(await readFile(path.join(dataDir, 'cluster.json'), 'utf8')) as { clusterKey: string; deviceId: string };
    const attacker = lab.exec(outsider!, path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx'), [
      'tests/fixtures/link-attacker.ts', '--host', member!.address, '--ports', ports.join(','), '--link-port', String(ready.linkPort),
      '--good-key', identity.clusterKey, '--good-id', identity.deviceId,
    ], { cwd: REPO_ROOT });
    let output = '';
    attacker.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    let stderr = '';
    attacker.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await new Promise((resolve) => attacker.once('exit', resolve));
    const result = JSON.parse(output.trim() || '{}') as { ports: Record<string, string>; wrongKey: string; afterwards: string };
    expect(result.ports, stderr).toBeDefined();

    for (const [port, outcome] of Object.entries(result.ports)) {
      // Loopback-only services refuse; the link accepts TCP but answers plain bytes with nothing.
      expect(['refused', 'accepted-then-closed'], `port ${port}`).toContain(outcome);
    }
    expect(result.ports[ready.rpc.split(':')[1]!]).toBe('refused');
    expect(result.wrongKey).toMatch(/^link-wrong-key: .*cluster key/);
    // The member side says so too, and ggml-rpc-server never saw a client.
    expect(events.some((event) => event.event === 'link-refused')).toBe(true);
    expect(events.filter((event) => event.event === 'cache' && event.kind === 'client-open')).toEqual([]);
    // After all that, a member still gets through.
    expect(result.afterwards).toMatch(/^HTTP\/1\.1 200/);
    expect(worker.exitCode).toBeNull();
  }, 120_000);
});
