// The Electron app end to end: the window opens on the built UI, shows this machine, and the
// page gets the contract and nothing more. Needs the Electron binary and a display.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { HearthApi } from '../../src-main/core/api/contract.js';
import { electronSkipReason, launchApp } from '../helpers/electron-app.js';

const WAIT_MS = 60_000;
// The worker may build the llama.cpp tools first when the global setup has not.
const SERVING_WAIT_MS = 10 * 60_000;

// Exactly the contract's members: the compiler rejects this line when the contract changes.
const contractMembers = {
  getStatus: true,
  getCluster: true,
  addPeer: true,
  showPairingCode: true,
  joinCluster: true,
  listModelFiles: true,
  openModel: true,
  closeModel: true,
  getSession: true,
  setPlanChoices: true,
  startWarmup: true,
  cancelWarmup: true,
  loadModel: true,
  unloadModel: true,
  moveModelBack: true,
  sendChat: true,
  stopChat: true,
  getSettings: true,
  updateSettings: true,
  clearCache: true,
  on: true,
  openDroppedFile: true,
} satisfies Record<keyof HearthApi, true>;

describe('the Electron app', () => {
  it('opens a window on this machine and exposes only the contract', async (ctx) => {
    if (electronSkipReason !== null) {
      console.log(`Skipping the Electron end-to-end test: ${electronSkipReason}`);
      return ctx.skip(electronSkipReason);
    }
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-electron-'));
    const app = await launchApp({ dataDir, args: ['--no-discovery'] });
    try {
      const page = await app.firstWindow({ timeout: WAIT_MS });
      await page.getByRole('heading', { name: os.hostname(), exact: true }).waitFor({ timeout: WAIT_MS });
      await page.getByLabel('Worker state').filter({ hasText: /Serving|Error/ }).waitFor({ timeout: SERVING_WAIT_MS });

      const exposed = await page.evaluate(() => {
        const g = globalThis as unknown as { hearth?: Record<string, unknown>; require?: unknown; process?: unknown };
        return {
          members: Object.keys(g.hearth ?? {}).sort(),
          allFunctions: Object.values(g.hearth ?? {}).every((value) => typeof value === 'function'),
          require: typeof g.require,
          process: typeof g.process,
        };
      });
      expect(exposed.members).toEqual(Object.keys(contractMembers).sort());
      expect(exposed.allFunctions).toBe(true);
      expect(exposed.require).toBe('undefined');
      expect(exposed.process).toBe('undefined');

      // Navigation away from the app page is refused: the page stays where it is.
      const appUrl = page.url();
      await page.evaluate(() => {
        (globalThis as unknown as { location: { href: string } }).location.href = 'file:///etc/hostname';
      });
      await page.getByRole('heading', { name: os.hostname(), exact: true }).waitFor({ timeout: WAIT_MS });
      expect(page.url()).toBe(appUrl);
    } finally {
      await app.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }, SERVING_WAIT_MS + 4 * WAIT_MS);
});
