// A worker takes one coordinator at a time (ggml-rpc-server serves one client): a second
// coordinator's `hearth load` is told so at once, naming the worker, instead of waiting unseen
// in the server's backlog. Real workers, real llama-server, on loopback.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runHearth } from '../helpers/cli.js';
import { memberDataDir, startHearth, startMemberWorker, stopped, type Running } from '../helpers/hearth-process.js';
import { syntheticModel } from '../helpers/models.js';

const clusterKey = randomBytes(32);
let model: string;
let peers: string;
let worker: { running: Running; name: string };

beforeAll(async () => {
  model = await syntheticModel('tiny');
  worker = await startMemberWorker(clusterKey, 'worker-a');
  peers = `127.0.0.1:${Number((await worker.running.next('ready')).linkPort)}`;
}, 240_000);

afterAll(async () => {
  if (worker) await stopped(worker.running);
});

describe('a worker that serves another coordinator', () => {
  it('refuses a second coordinator at once, naming the worker and saying who holds it', async () => {
    const firstData = await memberDataDir(clusterKey, 'coordinator-a');
    const first = startHearth(['load', model, '--peers', peers, '--no-discovery', '--ctx', '256', '--port', '0', '--json'], { HEARTH_DATA_DIR: firstData });
    try {
      await first.next('ready');
      const secondData = await memberDataDir(clusterKey, 'coordinator-b');
      const second = await runHearth(['load', model, '--peers', peers, '--no-discovery', '--ctx', '256', '--port', '0', '--json'], { env: { ...process.env, HEARTH_DATA_DIR: secondData } });
      expect(second.code, second.stderr).toBe(1);
      const output = `${second.stdout}\n${second.stderr}`;
      expect(output).toContain('worker-a');
      expect(output).toMatch(/busy: its worker serves .*127\.0\.0\.1/);
      expect(output).toMatch(/one coordinator at a time/);
      // The refusal cost the first coordinator nothing: its model still answers.
      const chat = await runHearth(['chat', '--message', 'Hello', '--max-tokens', '4', '--temperature', '0', '--json'], { env: { ...process.env, HEARTH_DATA_DIR: firstData } });
      expect(chat.code, chat.stderr).toBe(0);
    } finally {
      expect(await stopped(first), first.stderr()).toBe(0);
    }
  }, 180_000);
});
