// What a user does in the web UI, in real Chromium against the real `hearth serve` with two real
// member workers on loopback: add the peers by address, drop a synthetic model, read its facts
// and plan, change a share, pre-warm and watch the bars reach 100%, load, chat and receive
// tokens; a file that is not a model gets a clear message. Screenshots go to test-output/.
import { randomBytes } from 'node:crypto';
import { copyFile, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memberDataDir, startMemberWorker, stopped, type Running } from '../helpers/hearth-process.js';
import { scratchDir, syntheticModel } from '../helpers/models.js';
import { serveUi, type ServedUi } from '../helpers/web-ui.js';

const WAIT_MS = 60_000;
const clusterKey = randomBytes(32);
const workers: { running: Running; name: string; linkPort: number }[] = [];
let ui: ServedUi;
let page: Page;
let modelsDir: string;

beforeAll(async () => {
  modelsDir = scratchDir('hearth-models-dir-');
  await copyFile(await syntheticModel('cacheSized'), path.join(modelsDir, 'cache-sized.gguf'));
  for (const name of ['worker-a', 'worker-b']) {
    const worker = await startMemberWorker(clusterKey, name);
    workers.push({ ...worker, linkPort: Number((await worker.running.next('ready')).linkPort) });
  }
  ui = await serveUi({ dataDir: await memberDataDir(clusterKey, 'coordinator'), args: ['--models', modelsDir] });
  page = ui.page;
  await page.goto(ui.url);
  await page.getByLabel('Worker state').filter({ hasText: 'Serving' }).waitFor({ timeout: WAIT_MS });
}, 4 * WAIT_MS);

afterAll(async () => {
  await ui?.close();
  for (const worker of workers) await stopped(worker.running);
}, WAIT_MS);

const panel = (name: string) => page.getByRole('tabpanel', { name });

async function openTab(name: string): Promise<void> {
  await page.getByRole('tab', { name }).click();
  await panel(name).waitFor({ state: 'visible' });
}

/** Drop files on the window the way a drag from the file manager does (a DataTransfer drop event). Page code, so a string: this file is type-checked for Node. */
const DROP_SCRIPT = `(dropped) => {
  const transfer = new DataTransfer();
  for (const file of dropped) {
    const bytes = file.base64 ? Uint8Array.from(atob(file.base64), (c) => c.charCodeAt(0)) : new Uint8Array(file.size ?? 0);
    transfer.items.add(new File([bytes], file.name));
  }
  for (const type of ['dragenter', 'dragover', 'drop']) document.body.dispatchEvent(new DragEvent(type, { dataTransfer: transfer, bubbles: true, cancelable: true }));
}`;

async function drop(files: { name: string; size?: number; base64?: string }[]): Promise<void> {
  await page.evaluate(`(${DROP_SCRIPT})(${JSON.stringify(files)})`);
}

async function valueOf(bar: ReturnType<Page['getByRole']>): Promise<number> {
  return Number(await bar.getAttribute('aria-valuenow'));
}

describe('the web UI with a two-worker cluster', () => {
  it('adds both peers by address and shows them paired', async () => {
    await openTab('Cluster');
    for (const worker of workers) {
      await panel('Cluster').getByLabel('Host or IP address').fill('127.0.0.1');
      await panel('Cluster').getByLabel('Port (optional)').fill(String(worker.linkPort));
      await panel('Cluster').getByRole('button', { name: 'Add peer' }).click();
      const card = panel('Cluster').getByRole('article', { name: worker.name });
      await card.getByRole('list', { name: `${worker.name} state` }).getByText('Paired', { exact: true }).waitFor({ timeout: WAIT_MS });
    }
    await ui.screenshot('cluster');
  }, 2 * WAIT_MS);

  it('says clearly when what was dropped is not a model', async () => {
    await drop([{ name: 'notes.txt', size: 12 }]);
    await page.getByRole('alert').filter({ hasText: '"notes.txt" is not a GGUF model: drop a .gguf file.' }).waitFor({ timeout: WAIT_MS });
  }, WAIT_MS);

  it('opens a dropped model from the model folder: its facts and a plan that fits', async () => {
    const { size } = await stat(path.join(modelsDir, 'cache-sized.gguf'));
    await drop([{ name: 'cache-sized.gguf', size }]);
    const model = panel('Model');
    await model.waitFor({ state: 'visible', timeout: WAIT_MS });
    const facts = model.getByLabel('Model facts');
    await facts.getByText('cache-sized.gguf').waitFor({ timeout: WAIT_MS });
    await expect(facts.textContent()).resolves.toMatch(/llama/);
    await model.getByRole('region', { name: 'Fits', exact: true }).waitFor({ timeout: WAIT_MS });
    await ui.screenshot('model');
  }, 2 * WAIT_MS);

  it('shows the split over both peers and re-plans when a share changes', async () => {
    await openTab('Split');
    const meters = panel('Split').getByRole('meter');
    await meters.first().waitFor({ timeout: WAIT_MS });
    const names = await meters.evaluateAll((elements) => elements.map((element) => element.getAttribute('aria-label') ?? ''));
    expect(names.length).toBe(2);
    const [first, second] = names.map((name) => name.replace(/ planned memory$/, ''));
    const before = await valueOf(panel('Split').getByRole('meter', { name: `${second} planned memory` }));
    await panel('Split').getByRole('spinbutton', { name: `${first} share` }).fill('90');
    await expect.poll(() => valueOf(panel('Split').getByRole('meter', { name: `${second} planned memory` })), { timeout: WAIT_MS }).toBeLessThan(before);
    await ui.screenshot('split');
    await panel('Split').getByRole('button', { name: 'Auto' }).click();
    await expect.poll(() => valueOf(panel('Split').getByRole('meter', { name: `${second} planned memory` })), { timeout: WAIT_MS }).toBe(before);
  }, 2 * WAIT_MS);

  it('pre-warms both peers: every warm-up and coverage bar reaches 100%', async () => {
    await openTab('Warm-up');
    await panel('Warm-up').getByRole('button', { name: 'Pre-warm' }).click();
    for (const worker of workers) {
      for (const bar of [`${worker.name} warm-up`, `${worker.name} cache coverage`]) {
        await expect.poll(() => valueOf(panel('Warm-up').getByRole('progressbar', { name: bar })), { timeout: 2 * WAIT_MS }).toBe(100);
      }
    }
    await panel('Warm-up').getByRole('img', { name: /Warm-up: bytes moved over time/ }).waitFor({ timeout: WAIT_MS });
    await ui.screenshot('warm-up');
  }, 3 * WAIT_MS);

  it('loads the model from the warm caches and chats with tokens streaming, then stops the answer', async () => {
    await openTab('Model');
    await panel('Model').getByRole('button', { name: 'Load', exact: true }).click();
    await panel('Model').getByLabel('API access').waitFor({ timeout: 2 * WAIT_MS });
    // Every large tensor came from the warm caches: none was sent.
    const caches = panel('Model').getByRole('table', { name: 'Peer caches during the load' });
    for (const worker of workers) await expect(caches.getByRole('row', { name: new RegExp(worker.name) }).textContent()).resolves.toMatch(/0 tensors/);
    await openTab('Chat');
    await panel('Chat').getByRole('textbox', { name: 'Message' }).fill('Tell me about the hearth');
    await panel('Chat').getByRole('button', { name: 'Send' }).click();
    // A random-weight model never says it is done: watch tokens stream, then stop it (long actions are cancellable).
    await panel('Chat').getByText(/Answering at [\d.]+ tokens\/s/).waitFor({ timeout: 2 * WAIT_MS });
    await panel('Chat').getByRole('button', { name: 'Stop', exact: true }).click();
    await panel('Chat').getByText(/Stopped after \d+ tokens/).waitFor({ timeout: WAIT_MS });
    const answer = await panel('Chat').getByRole('log', { name: 'Conversation' }).textContent();
    expect(answer).toMatch(/Tell me about the hearth/);
    await ui.screenshot('chat');
  }, 5 * WAIT_MS);

  it('uploads a model that is not in a model folder, with progress, and opens it', async () => {
    const tiny = await readFile(await syntheticModel('tiny'));
    await drop([{ name: 'uploaded-tiny.gguf', base64: tiny.toString('base64') }]);
    await panel('Model').getByLabel('Model facts').getByText('uploaded-tiny.gguf').waitFor({ timeout: 2 * WAIT_MS });
    expect(ui.problems).toEqual([]);
  }, 3 * WAIT_MS);
});
