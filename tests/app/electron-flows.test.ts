// The web UI's flows in the Electron app window, with the same two real workers: the model is
// opened through the file picker (the app gets the file's path by webUtils), the rest is the
// same steps. Needs the Electron binary and a display; where either is missing it says so and skips.
import type { ElectronApplication, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { electronSkipReason, launchApp } from '../helpers/electron-app.js';
import { scratchDir } from '../helpers/models.js';
import { addPeers, changeShare, expectModelOpened, FLOW_WAIT_MS, loadAndChat, openTab, prewarm, startFlowCluster, waitForWorkerServing, type FlowCluster } from '../helpers/ui-flow.js';

const skip = electronSkipReason !== null;
if (skip) console.log(`Skipping the Electron flow tests: ${electronSkipReason}`);

describe.skipIf(skip)('the Electron app with a two-worker cluster', () => {
  let cluster: FlowCluster;
  let app: ElectronApplication;
  let page: Page;

  beforeAll(async () => {
    cluster = await startFlowCluster();
    app = await launchApp({
      dataDir: cluster.coordinatorDataDir,
      args: ['--no-discovery', '--cache-dir', scratchDir(), '--rpc-port', '0', '--control-port', '0', '--link-port', '0', '--api-port', '0'],
    });
    page = await app.firstWindow({ timeout: FLOW_WAIT_MS });
    await waitForWorkerServing(page);
  }, 4 * FLOW_WAIT_MS);

  afterAll(async () => {
    await app?.close();
    await cluster?.stop();
  }, FLOW_WAIT_MS);

  it('adds both peers by address', () => addPeers(page, cluster), 2 * FLOW_WAIT_MS);

  it('opens a model picked from disk by its path', async () => {
    const screen = await openTab(page, 'Model');
    await screen.getByLabel('Model file').setInputFiles(cluster.model);
    await expectModelOpened(page, 'cache-sized.gguf');
  }, 2 * FLOW_WAIT_MS);

  it('re-plans when a share changes', () => changeShare(page), 2 * FLOW_WAIT_MS);

  it('pre-warms both peers to 100%', () => prewarm(page, cluster), 3 * FLOW_WAIT_MS);

  it('loads from the warm caches and chats', () => loadAndChat(page, cluster), 5 * FLOW_WAIT_MS);
});
