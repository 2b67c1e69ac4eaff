// What a user does in the web UI, in real Chromium against the real `hearth serve` with two real
// member workers on loopback: add the peers by address, drop a synthetic model, read its facts
// and plan, change a share, pre-warm and watch the bars reach 100%, load, chat and receive
// tokens; a file that is not a model gets a clear message. Screenshots go to test-output/.
import { readFile, stat } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticModel } from '../helpers/models.js';
import { addPeers, changeShare, expectModelOpened, FLOW_WAIT_MS, loadAndChat, prewarm, startFlowCluster, waitForWorkerServing, type FlowCluster } from '../helpers/ui-flow.js';
import { serveUi, type ServedUi } from '../helpers/web-ui.js';

let cluster: FlowCluster;
let ui: ServedUi;
let page: Page;

beforeAll(async () => {
  cluster = await startFlowCluster();
  ui = await serveUi({ dataDir: cluster.coordinatorDataDir, args: ['--models', cluster.modelsDir] });
  page = ui.page;
  await page.goto(ui.url);
  await waitForWorkerServing(page);
}, 4 * FLOW_WAIT_MS);

afterAll(async () => {
  await ui?.close();
  await cluster?.stop();
}, FLOW_WAIT_MS);

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

describe('the web UI with a two-worker cluster', () => {
  it('adds both peers by address and shows them paired', async () => {
    await addPeers(page, cluster);
    await ui.screenshot('cluster');
  }, 2 * FLOW_WAIT_MS);

  it('says clearly when what was dropped is not a model', async () => {
    await drop([{ name: 'notes.txt', size: 12 }]);
    await page.getByRole('alert').filter({ hasText: '"notes.txt" is not a GGUF model: drop a .gguf file.' }).waitFor({ timeout: FLOW_WAIT_MS });
  }, FLOW_WAIT_MS);

  it('opens a dropped model from the model folder: its facts and a plan that fits', async () => {
    // A browser's File has no path: the server opens its own copy of the same name and size.
    await drop([{ name: 'cache-sized.gguf', size: (await stat(cluster.model)).size }]);
    await expectModelOpened(page, 'cache-sized.gguf');
    await ui.screenshot('model');
  }, 2 * FLOW_WAIT_MS);

  it('shows the split over both peers and re-plans when a share changes', async () => {
    await changeShare(page);
    await ui.screenshot('split');
  }, 2 * FLOW_WAIT_MS);

  it('pre-warms both peers: every warm-up and coverage bar reaches 100%', async () => {
    await prewarm(page, cluster);
    await ui.screenshot('warm-up');
  }, 3 * FLOW_WAIT_MS);

  it('loads the model from the warm caches and chats with tokens streaming, then stops the answer', async () => {
    await loadAndChat(page, cluster);
    await ui.screenshot('chat');
  }, 5 * FLOW_WAIT_MS);

  it('moves between screens by keyboard, and fits 1024×700 in light and dark', async () => {
    await page.getByRole('tab', { name: 'Cluster' }).click();
    for (const name of ['Model', 'Split', 'Warm-up', 'Chat', 'Settings']) {
      await page.keyboard.press('ArrowRight');
      await page.getByRole('tab', { name, selected: true }).waitFor({ timeout: FLOW_WAIT_MS });
      await page.getByRole('tabpanel', { name }).waitFor({ state: 'visible' });
      // Nothing wider than the window: no sideways scrolling at the smallest supported size.
      for (const scheme of ['light', 'dark'] as const) {
        await page.emulateMedia({ colorScheme: scheme });
        expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth'), `${name} in ${scheme}`).toBe(true);
      }
      await ui.screenshot(`dark-${name.toLowerCase()}`);
    }
    await page.keyboard.press('Home');
    await page.getByRole('tab', { name: 'Cluster', selected: true }).waitFor({ timeout: FLOW_WAIT_MS });
    await page.emulateMedia({ colorScheme: 'light' });
  }, 2 * FLOW_WAIT_MS);

  it('uploads a model that is not in a model folder and opens it', async () => {
    const tiny = await readFile(await syntheticModel('tiny'));
    await drop([{ name: 'uploaded-tiny.gguf', base64: tiny.toString('base64') }]);
    await expectModelOpened(page, 'uploaded-tiny.gguf');
    expect(ui.problems).toEqual([]);
  }, 3 * FLOW_WAIT_MS);
});
