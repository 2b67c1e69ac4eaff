// A llama-server that crashes while it serves is started again with the same plan, and answers as
// before; past the limit (3 in 10 minutes) Hearth stops trying and says so.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Coordinator } from '../../../src-main/core/coordinator/coordinator.js';
import { openApiEndpoint, type ApiEndpoint } from '../../../src-main/core/coordinator/api-endpoint.js';
import type { LoadRun } from '../../../src-main/core/coordinator/load-run.js';
import { ensureTools } from '../../../src-main/core/native/tools.js';
import { readPlanModel } from '../../../src-main/core/planner/model-shape.js';
import { scratchDir, syntheticModel } from '../../helpers/models.js';

const noMembers = { current: () => ({ members: [], skipped: [] }), dial: () => Promise.reject(new Error('no members')), onChange: () => () => undefined };
const ASK = { model: 'any', prompt: 'The engine restarts', max_tokens: 6, temperature: 0, top_k: 1, seed: 1, ignore_eos: true, cache_prompt: false };

let coordinator: Coordinator;
let endpoint: ApiEndpoint;

beforeAll(async () => {
  const tools = await ensureTools();
  coordinator = new Coordinator({ tools, dataDir: scratchDir(), members: noMembers });
  endpoint = await openApiEndpoint(tools, { host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await coordinator?.close();
  await endpoint?.close();
});

async function complete(): Promise<{ status: number; text: string | null; retryAfter: string | null }> {
  const answer = await fetch(`${endpoint.baseUrl}/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ASK) });
  const body = (await answer.json()) as { choices?: { text: string }[] };
  return { status: answer.status, text: body.choices?.[0]?.text ?? null, retryAfter: answer.headers.get('retry-after') };
}

/** Kill the serving llama-server as a crash would, and wait for the run's next heal event. */
async function crash(run: LoadRun): Promise<'healed' | 'gave-up'> {
  const outcome = new Promise<'healed' | 'gave-up'>((resolve) => {
    run.once('healed', () => resolve('healed'));
    run.once('gave-up', () => resolve('gave-up'));
  });
  process.kill(endpoint.slot.server!.pid!, 'SIGKILL');
  return outcome;
}

describe('a crashed llama-server', () => {
  it('is started again with the same plan and answers as before, then Hearth gives up after three', async () => {
    const model = await readPlanModel(await syntheticModel('tiny'));
    const planned = await coordinator.plan(model, { contextLength: 256 }).result;
    const run = coordinator.load(planned, endpoint);
    await run.result;
    const before = await complete();
    expect(before.status).toBe(200);

    let healing = '';
    let during: Promise<Awaited<ReturnType<typeof complete>>> | null = null;
    run.once('healing', (loss) => {
      healing = loss.reason;
      during = complete();
    });
    expect(await crash(run)).toBe('healed');
    expect(healing).toMatch(/^llama-server stopped/);
    // Asked while it loads again: told to come back shortly, never left hanging.
    expect(await during).toMatchObject({ status: 503, retryAfter: '2' });
    expect(await complete()).toMatchObject({ status: 200, text: before.text });

    expect(await crash(run)).toBe('healed');
    expect(await crash(run)).toBe('healed');
    let reason = '';
    run.once('gave-up', (why) => (reason = why));
    expect(await crash(run)).toBe('gave-up');
    expect(reason).toMatch(/3 times in 10 minutes/);
    const down = await complete();
    expect(down.status).toBe(503);
  }, 240_000);
});
