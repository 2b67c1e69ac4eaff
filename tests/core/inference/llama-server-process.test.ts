import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { isHearthError } from '../../../src-main/core/base/errors.js';
import type { LoadState } from '../../../src-main/core/inference/load-state.js';
import { spawnLlamaServer, type LlamaServerProcess } from '../../../src-main/core/inference/llama-server-process.js';
import { ensureTools, type LlamaTools } from '../../../src-main/core/native/tools.js';
import { scratchDir, syntheticModel } from '../../helpers/models.js';

const ARGS = ['-c', '256', '-t', '2', '-ngl', '0'];
let tools: LlamaTools;
let model: string;

beforeAll(async () => {
  tools = await ensureTools();
  model = await syntheticModel('tiny');
});

function follow(server: LlamaServerProcess): LoadState[] {
  const states: LoadState[] = [server.state];
  server.on('state', (state: LoadState) => states.push(state));
  return states;
}

/** Whether a process still runs (a zombie waiting for its reaper does not). */
function isRunning(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function waitUntil(check: () => boolean, timeoutMs: number): Promise<boolean> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
    if (check()) return true;
  }
  return check();
}

describe('spawnLlamaServer', () => {
  it('goes starting → loading (with llama.cpp\'s own fraction) → ready on loopback, and stops cleanly', async ({ onTestFinished }) => {
    const server = await spawnLlamaServer({ tools, model, modelId: 'tiny', args: ARGS });
    onTestFinished(() => server.stop());
    const states = follow(server);
    await server.whenReady();

    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(states[0]).toEqual({ state: 'starting' });
    expect(states.at(-1)).toEqual({ state: 'ready', url: server.url });
    const fractions = states.flatMap((s) => (s.state === 'loading' && s.progress.fraction !== null ? [s.progress.fraction] : []));
    expect(fractions.at(-1)).toBe(1);
    expect(fractions).toEqual([...fractions].sort((a, b) => a - b));
    expect(states.some((s) => s.state === 'loading' && s.progress.step === 'reading the model')).toBe(true);

    // Its own port needs the per-load key: another local program cannot use it behind Hearth's back.
    expect((await fetch(`${server.url}/v1/models`)).status).toBe(401);
    const models = await fetch(`${server.url}/v1/models`, { headers: { Authorization: `Bearer ${server.apiKey}` } });
    expect(((await models.json()) as { data: { id: string }[] }).data[0]!.id).toBe('tiny');

    await server.stop();
    expect(states.at(-1)).toEqual({ state: 'stopped' });
    expect(await server.exited).toEqual({ code: expect.any(Number), signal: null }); // it handled SIGTERM itself
    expect(isRunning(server.pid!)).toBe(false);
  });

  it('a crash after ready becomes state failed (during serve) with its last log lines', async ({ onTestFinished }) => {
    const server = await spawnLlamaServer({ tools, model, modelId: 'tiny', args: ARGS });
    onTestFinished(() => server.stop());
    await server.whenReady();
    process.kill(server.pid!, 'SIGKILL');
    await server.exited;

    expect(server.state).toMatchObject({ state: 'failed', during: 'serve', reason: 'llama-server was killed by SIGKILL while serving' });
    expect((server.state as { logTail: string[] }).logTail.join('\n')).toContain('model loaded');
  });

  it.each([
    ['a truncated GGUF', (good: Buffer) => good.subarray(0, good.length >> 1), /not within the file bounds/],
    ['a file that is not GGUF', () => Buffer.from('just some text, not a model\n'), /invalid magic characters/],
  ])('%s fails the load with the cause and the log tail', async (_name, damage, cause) => {
    const bad = path.join(scratchDir(), 'bad.gguf');
    await writeFile(bad, damage(readFileSync(model)));
    const server = await spawnLlamaServer({ tools, model: bad, modelId: 'bad', args: ARGS });
    const error = await server.whenReady().then(() => null, (caught: unknown) => caught);

    expect(isHearthError(error) && error.code).toBe('model-load-failed');
    expect((error as Error).message).toMatch(cause);
    expect(server.state).toMatchObject({ state: 'failed', during: 'load', reason: expect.stringMatching(cause) });
    expect((server.state as { logTail: string[] }).logTail.some((line) => line.includes(bad))).toBe(true);
  });

  it.skipIf(process.platform === 'win32')('fails a load that stops making progress once the stall bound has passed, with the lines it printed', async ({ onTestFinished }) => {
    // A named pipe no one writes to: llama-server prints its first lines, then blocks opening the model for good.
    const stuck = path.join(scratchDir(), 'stuck.gguf');
    execFileSync('mkfifo', [stuck]);
    const server = await spawnLlamaServer({ tools, model: stuck, modelId: 'stuck', args: ARGS, stallTimeoutMs: 2_000 });
    onTestFinished(() => server.stop());
    const error = await server.whenReady().then(() => null, (caught: unknown) => caught);

    expect(isHearthError(error) && error.code).toBe('model-load-failed');
    expect((error as Error).message).toMatch(/made no progress for 2 s while loading/);
    expect((error as Error).message).toContain(`loading model '${stuck}'`);
    expect(server.state).toMatchObject({ state: 'failed', during: 'load' });
    expect((server.state as { logTail: string[] }).logTail.some((line) => line.includes('loading model'))).toBe(true);
  });

  it('leaves no orphan: a llama-server whose parent is SIGKILLed ends itself', async () => {
    const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'llama-server-parent.ts');
    const parent = spawn(process.execPath, ['--import', 'tsx', fixture, model], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const [line] = await Promise.race([
        createInterface({ input: parent.stdout })[Symbol.asyncIterator]().next().then((r) => [r.value as string]),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the parent never reported its llama-server')), 60_000)),
      ]);
      const { pid } = JSON.parse(line!) as { pid: number };
      expect(isRunning(pid)).toBe(true);
      parent.kill('SIGKILL');
      expect(await waitUntil(() => !isRunning(pid), 10_000)).toBe(true);
    } finally {
      parent.kill('SIGKILL');
    }
  });
});
