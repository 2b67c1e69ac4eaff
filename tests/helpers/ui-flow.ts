// The user's path through the UI, step by step, shared by the web test (Chromium against
// `hearth serve`) and the Electron test (the app window): the same screens, the same names.
import { randomBytes } from 'node:crypto';
import { copyFile } from 'node:fs/promises';
import path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { expect } from 'vitest';
import { memberDataDir, startMemberWorker, stopped, type Running } from './hearth-process.js';
import { scratchDir, syntheticModel } from './models.js';

export const FLOW_WAIT_MS = 60_000;

/** Two real member workers on loopback, a model folder with a synthetic model, and the coordinator's data folder of the same cluster. */
export interface FlowCluster {
  workers: { running: Running; name: string; linkPort: number }[];
  modelsDir: string;
  /** The model in the folder. */
  model: string;
  coordinatorDataDir: string;
  stop(): Promise<void>;
}

export async function startFlowCluster(): Promise<FlowCluster> {
  const clusterKey = randomBytes(32);
  const modelsDir = scratchDir('hearth-models-dir-');
  const model = path.join(modelsDir, 'cache-sized.gguf');
  await copyFile(await syntheticModel('cacheSized'), model);
  const workers: FlowCluster['workers'] = [];
  for (const name of ['worker-a', 'worker-b']) {
    const worker = await startMemberWorker(clusterKey, name);
    workers.push({ ...worker, linkPort: Number((await worker.running.next('ready')).linkPort) });
  }
  return {
    workers,
    modelsDir,
    model,
    coordinatorDataDir: await memberDataDir(clusterKey, 'coordinator'),
    stop: async () => void (await Promise.all(workers.map((worker) => stopped(worker.running)))),
  };
}

const panel = (page: Page, name: string): Locator => page.getByRole('tabpanel', { name });

export async function openTab(page: Page, name: string): Promise<Locator> {
  await page.getByRole('tab', { name }).click();
  await panel(page, name).waitFor({ state: 'visible' });
  return panel(page, name);
}

async function valueOf(bar: Locator): Promise<number> {
  return Number(await bar.getAttribute('aria-valuenow'));
}

export async function waitForWorkerServing(page: Page): Promise<void> {
  await page.getByLabel('Worker state').filter({ hasText: 'Serving' }).waitFor({ timeout: FLOW_WAIT_MS });
}

/** Cluster screen: add each worker by address, see it paired. */
export async function addPeers(page: Page, cluster: FlowCluster): Promise<void> {
  const screen = await openTab(page, 'Cluster');
  for (const worker of cluster.workers) {
    await screen.getByLabel('Host or IP address').fill('127.0.0.1');
    await screen.getByLabel('Port (optional)').fill(String(worker.linkPort));
    await screen.getByRole('button', { name: 'Add peer' }).click();
    const card = screen.getByRole('article', { name: worker.name });
    await card.getByRole('list', { name: `${worker.name} state` }).getByText('Paired', { exact: true }).waitFor({ timeout: FLOW_WAIT_MS });
  }
}

/** Model screen, once a model was opened: its facts and a plan that fits. */
export async function expectModelOpened(page: Page, fileName: string): Promise<void> {
  const screen = panel(page, 'Model');
  await screen.waitFor({ state: 'visible', timeout: FLOW_WAIT_MS });
  const facts = screen.getByLabel('Model facts');
  await facts.getByText(fileName).waitFor({ timeout: FLOW_WAIT_MS });
  expect(await facts.textContent()).toMatch(/llama/);
  await screen.getByRole('region', { name: 'Fits', exact: true }).waitFor({ timeout: FLOW_WAIT_MS });
}

/** Split screen: both peers planned; a share changed re-plans; Auto gives the first plan back. */
export async function changeShare(page: Page): Promise<void> {
  const screen = await openTab(page, 'Split');
  const meters = screen.getByRole('meter');
  await meters.first().waitFor({ timeout: FLOW_WAIT_MS });
  const names = await meters.evaluateAll((elements) => elements.map((element) => element.getAttribute('aria-label') ?? ''));
  expect(names).toHaveLength(2);
  const [first, second] = names.map((name) => name.replace(/ planned memory$/, ''));
  const secondMemory = () => valueOf(screen.getByRole('meter', { name: `${second} planned memory` }));
  const before = await secondMemory();
  await screen.getByRole('spinbutton', { name: `${first} share` }).fill('90');
  await expect.poll(secondMemory, { timeout: FLOW_WAIT_MS }).toBeLessThan(before);
  await screen.getByRole('button', { name: 'Auto' }).click();
  await expect.poll(secondMemory, { timeout: FLOW_WAIT_MS }).toBe(before);
}

/** Warm-up screen: pre-warm, and every warm-up and coverage bar reaches 100%. */
export async function prewarm(page: Page, cluster: FlowCluster): Promise<void> {
  const screen = await openTab(page, 'Warm-up');
  await screen.getByRole('button', { name: 'Pre-warm' }).click();
  for (const worker of cluster.workers) {
    for (const bar of [`${worker.name} warm-up`, `${worker.name} cache coverage`]) {
      await expect.poll(() => valueOf(screen.getByRole('progressbar', { name: bar })), { timeout: 2 * FLOW_WAIT_MS }).toBe(100);
    }
  }
  await screen.getByRole('img', { name: /Warm-up: bytes moved over time/ }).waitFor({ timeout: FLOW_WAIT_MS });
}

/** Model screen: load (every cached tensor from the warm caches); Chat screen: tokens stream, then Stop ends the answer. */
export async function loadAndChat(page: Page, cluster: FlowCluster): Promise<void> {
  const model = await openTab(page, 'Model');
  await model.getByRole('button', { name: 'Load', exact: true }).click();
  await model.getByLabel('API access').waitFor({ timeout: 2 * FLOW_WAIT_MS });
  const caches = model.getByRole('table', { name: 'Peer caches during the load' });
  for (const worker of cluster.workers) expect(await caches.getByRole('row', { name: new RegExp(worker.name) }).textContent()).toMatch(/0 tensors/);
  const chat = await openTab(page, 'Chat');
  // The three base URLs to copy: OpenAI's ends in /v1, Anthropic's and Ollama's are the root.
  const access = await chat.getByLabel('API access').textContent();
  expect(access).toMatch(/OpenAI base URL.*http:\/\/[^ ]+:\d+\/v1.*Anthropic base URL.*http:\/\/[^ ]+:\d+ .*Ollama host.*http:\/\/[^ ]+:\d+ /s);
  await chat.getByRole('textbox', { name: 'Message' }).fill('Tell me about the hearth');
  await chat.getByRole('button', { name: 'Send' }).click();
  // A random-weight model never says it is done: watch tokens stream, then stop it (long actions are cancellable).
  await chat.getByText(/Answering at [\d.]+ tokens\/s/).waitFor({ timeout: 2 * FLOW_WAIT_MS });
  await chat.getByRole('button', { name: 'Stop', exact: true }).click();
  await chat.getByText(/Stopped after \d+ tokens/).waitFor({ timeout: FLOW_WAIT_MS });
  expect(await chat.getByRole('log', { name: 'Conversation' }).textContent()).toMatch(/Tell me about the hearth/);
}
