// A real `hearth worker` process killed (SIGKILL) in the middle of a resumable upload: started
// again on the same folder it offers to continue from its last checkpoint, so only the bytes
// since then are sent again, and the entry ends verified. Also: `--models` is kept for the folder.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { request } from 'node:http';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { Fnv1a64 } from '../../../src-main/core/cache/checksums.js';
import { digestOf } from '../../../src-main/core/cache/entry-digest.js';
import { verifyEntry } from '../../../src-main/core/cache/entry-files.js';
import { ingestDataPath } from '../../../src-main/core/cache/ingest-files.js';
import { REPO_ROOT } from '../../helpers/cli.js';
import { eventually } from '../../helpers/expected-cache.js';
import { scratchDir } from '../../helpers/models.js';
import { control } from '../../helpers/worker.js';

const MiB = 1024 * 1024;
/** The worker's checkpoint interval (ingest-store.ts): what a kill can cost at most. */
const CHECKPOINT = 64 * MiB;
// The CLI from source (tsx), so the test runs the code under test without a build.
const RUN_CLI = "const { main } = await import('./src-main/cli/main.ts'); process.exitCode = await main(process.argv.slice(1));";

const cacheDir = scratchDir('hearth-kill-cache-');
const dataDir = scratchDir('hearth-kill-data-');
const modelsDir = scratchDir('hearth-kill-models-');
const children: ChildProcess[] = [];

/** Start `hearth worker` on the test's folders; resolves with the process and its ready event. */
async function startWorker(extra: string[] = []): Promise<{ child: ChildProcess; ready: { control: string; modelDirs: string[] } }> {
  const args = ['--import', 'tsx', '--input-type=module', '-e', RUN_CLI, 'worker', '--json', '--port', '0', '--rpc-port', '0', '--link-host', '127.0.0.1', '--link-port', '0', '--no-discovery', '--cache-dir', cacheDir, ...extra];
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env: { ...process.env, HEARTH_DATA_DIR: dataDir }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const ready = await new Promise<{ control: string; modelDirs: string[] }>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const event = JSON.parse(line) as { event: string; control: string; modelDirs: string[] };
      if (event.event === 'ready') resolve(event);
    });
    child.once('exit', (code) => reject(new Error(`hearth worker exited (${code}) before it was ready: ${stderr}`)));
  });
  return { child, ready };
}

afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});

describe('a worker killed mid-upload', () => {
  it('loses only the bytes since its last checkpoint, and the upload ends verified', async () => {
    const first = await startWorker(['--models', modelsDir]);
    expect(first.ready.modelDirs).toEqual([modelsDir]);
    const bytes = randomBytes(160 * MiB);
    const hash = new Fnv1a64().update(bytes).digestHex();
    const sentFirst = 100 * MiB;

    const req = request(new URL(`v1/cache/entries/${hash}`, first.ready.control), {
      method: 'PUT',
      headers: { 'x-hearth-resumable': '1', 'x-hearth-entry-size': String(bytes.length), 'content-length': String(bytes.length), 'x-hearth-entry-digest': digestOf(bytes) },
    });
    req.on('error', () => undefined); // the worker dies under it
    req.write(bytes.subarray(0, sentFirst));
    const offset = async () => ((await control(first.ready.control, 'GET', `v1/cache/ingests/${hash}`)).json as { offset: number }).offset;
    await eventually(async () => ((await offset()) === sentFirst ? true : undefined), 30_000, 'the worker to receive the first 100 MiB');
    const exited = new Promise((resolve) => first.child.once('exit', resolve));
    first.child.kill('SIGKILL');
    await exited;
    req.destroy();

    // Started again without --models: the folder's setting stays.
    const second = await startWorker();
    expect(second.ready.modelDirs).toEqual([modelsDir]);
    // The checkpoint is taken at the first chunk boundary past 64 MiB; bytes after it are cut off.
    const info = (await control(second.ready.control, 'GET', `v1/cache/ingests/${hash}`)).json as { hash: string; offset: number; size: number };
    expect(info).toMatchObject({ hash, size: bytes.length });
    expect(info.offset).toBeGreaterThanOrEqual(CHECKPOINT);
    expect(info.offset).toBeLessThan(CHECKPOINT + MiB);
    expect((await stat(ingestDataPath(cacheDir, hash))).size).toBe(info.offset);

    const resumed = await fetch(new URL(`v1/cache/entries/${hash}`, second.ready.control), {
      method: 'PUT',
      body: bytes.subarray(info.offset),
      // The digest is checked over all of it: the worker reads what it kept once to continue its SHA-256.
      headers: { 'x-hearth-resumable': '1', 'x-hearth-entry-size': String(bytes.length), 'x-hearth-offset': String(info.offset), 'x-hearth-entry-digest': digestOf(bytes) },
    });
    expect(resumed.status).toBe(201);
    // Sent in all: the entry once, plus what the kill cost (less than one checkpoint interval).
    const sent = sentFirst + (bytes.length - info.offset);
    expect(sent - bytes.length).toBeLessThan(CHECKPOINT);
    expect(await verifyEntry(path.join(cacheDir, 'rpc'), hash)).toEqual({ ok: true, size: bytes.length });
    second.child.kill('SIGINT');
    await new Promise((resolve) => second.child.once('exit', resolve));
  });
});
