import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { request } from 'node:http';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { Fnv1a64 } from '../../src-main/core/cache/checksums.js';
import { digestOf } from '../../src-main/core/cache/entry-digest.js';
import { HEARTH_BIN, REPO_ROOT, runHearth } from '../helpers/cli.js';
import { eventually } from '../helpers/expected-cache.js';
import { scratchDir } from '../helpers/models.js';
import { control } from '../helpers/worker.js';

interface Ready {
  event: 'ready';
  rpc: string;
  control: string;
  cacheDir: string;
  devices: { name: string }[];
}

/** Start `hearth worker --json` on free ports and wait for its ready line. */
async function startWorkerCli(cacheDir: string): Promise<{ child: ChildProcess; ready: Ready }> {
  const child = spawn(process.execPath, [HEARTH_BIN, 'worker', '--json', '--port', '0', '--rpc-port', '0', '--link-port', '0', '--no-discovery', '--cache-dir', cacheDir], {
    cwd: REPO_ROOT,
    // Its own identity: never the user's cluster key.
    env: { ...process.env, HEARTH_DATA_DIR: scratchDir('hearth-data-') },
  });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  for (;;) {
    const { value, done } = await lines.next();
    if (done) throw new Error('hearth worker exited before it was ready');
    const event = JSON.parse(String(value)) as { event: string };
    if (event.event === 'ready') return { child, ready: event as Ready };
  }
}

/** Process ids of running ggml-rpc-server processes listening on `endpoint`'s port. */
async function rpcServersOn(endpoint: string): Promise<number[]> {
  const port = endpoint.split(':')[1]!;
  const pids: number[] = [];
  for (const pid of (await readdir('/proc')).filter((name) => /^\d+$/.test(name))) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    const args = cmdline.split('\0');
    if (args[0]?.endsWith('ggml-rpc-server') && args.includes(port)) pids.push(Number(pid));
  }
  return pids;
}

describe('hearth worker', () => {
  it('serves its devices on loopback and answers on its control API', async () => {
    // A cache folder that does not exist yet is made.
    const { child, ready } = await startWorkerCli(path.join(scratchDir(), 'new', 'cache'));
    try {
      expect(ready.rpc).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(ready.devices.map((device) => device.name)).toContain('CPU');
      const status = await control(ready.control, 'GET', 'v1/status');
      expect(status.json).toMatchObject({ worker: { state: 'serving', endpoint: ready.rpc } });
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  });

  it('leaves no orphan RPC server when it is killed with SIGKILL', async () => {
    const { child, ready } = await startWorkerCli(scratchDir());
    expect(await rpcServersOn(ready.rpc)).toHaveLength(1);
    child.kill('SIGKILL');
    await eventually(async () => ((await rpcServersOn(ready.rpc)).length === 0 ? true : undefined), 10_000, 'the RPC server to follow its parent');
  });

  it('loses nothing when killed in the middle of a put', async () => {
    const cacheDir = scratchDir();
    const first = await startWorkerCli(cacheDir);
    const kept = randomBytes(256 * 1024);
    const keptHash = new Fnv1a64().update(kept).digestHex();
    const stored = await fetch(new URL(`v1/cache/entries/${keptHash}`, first.ready.control), { method: 'PUT', body: kept, headers: { 'x-hearth-entry-digest': digestOf(kept) } });
    expect(stored.status).toBe(201);

    const big = randomBytes(32 * 1024 * 1024);
    const bigHash = new Fnv1a64().update(big).digestHex();
    await new Promise<void>((resolve) => {
      const req = request(new URL(`v1/cache/entries/${bigHash}`, first.ready.control), { method: 'PUT', headers: { 'content-length': String(big.length), 'x-hearth-entry-digest': digestOf(big) } });
      req.on('error', () => resolve());
      // Half the entry is on its way when the worker dies.
      req.write(big.subarray(0, big.length / 2), () => {
        first.child.kill('SIGKILL');
        first.child.once('exit', () => resolve());
      });
    });
    const rpcDir = path.join(cacheDir, 'rpc');
    const second = await startWorkerCli(cacheDir);
    try {
      const names = await readdir(rpcDir);
      expect(names.filter((name) => name.includes('.tmp-'))).toEqual([]);
      expect(names).not.toContain(bigHash);
      const has = await control(second.ready.control, 'POST', 'v1/cache/has', { hashes: [keptHash, bigHash] });
      expect(has.json).toEqual({ present: [keptHash], missing: [bigHash] });
      const back = await fetch(new URL(`v1/cache/entries/${keptHash}`, second.ready.control));
      expect(Buffer.from(await back.arrayBuffer()).equals(kept)).toBe(true);
    } finally {
      second.child.kill('SIGTERM');
      await new Promise((resolve) => second.child.once('exit', resolve));
    }
  });

  it('refuses a cache size it cannot read', async () => {
    const result = await runHearth(['worker', '--cache-max', 'lots']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--cache-max takes a size such as 50G/);
  });
});
