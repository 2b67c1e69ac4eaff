// The Electron app end to end: the window opens on the built UI, shows this machine, and the
// page gets the contract and nothing more. Needs the Electron binary and a display.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { _electron } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { HearthApi } from '../../src-main/core/api/contract.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
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
  sendChat: true,
  stopChat: true,
  getSettings: true,
  updateSettings: true,
  clearCache: true,
  on: true,
  openDroppedFile: true,
} satisfies Record<keyof HearthApi, true>;

// Reads the package's path.txt instead of require('electron'), which would try to download.
function electronBinary(): { path: string } | { missing: string } {
  const packageDir = path.dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  const pathFile = path.join(packageDir, 'path.txt');
  if (!fs.existsSync(pathFile)) return { missing: `the Electron binary is not installed (${pathFile} is missing)` };
  const binary = path.join(packageDir, 'dist', fs.readFileSync(pathFile, 'utf8').trim());
  return fs.existsSync(binary) ? { path: binary } : { missing: `the Electron binary is not installed (${binary} is missing)` };
}

function displayMissing(): string | null {
  if (process.platform !== 'linux' && process.platform !== 'freebsd') return null;
  return process.env.DISPLAY || process.env.WAYLAND_DISPLAY ? null : 'there is no display (neither DISPLAY nor WAYLAND_DISPLAY is set)';
}

const binary = electronBinary();
const skipReason = 'missing' in binary ? binary.missing : displayMissing();

describe('the Electron app', () => {
  it('opens a window on this machine and exposes only the contract', async (ctx) => {
    if (skipReason !== null || 'missing' in binary) {
      console.log(`Skipping the Electron end-to-end test: ${skipReason}`);
      return ctx.skip(skipReason ?? undefined);
    }
    for (const built of ['dist/main/app/main.js', 'dist/main/preload/preload.cjs', 'dist/renderer/index.html']) {
      if (!fs.existsSync(path.join(repoRoot, built))) throw new Error(`${built} is missing: run npm run build`);
    }
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-electron-'));
    const app = await _electron.launch({
      executablePath: binary.path,
      args: [path.join(repoRoot, 'dist/main/app/main.js')],
      cwd: repoRoot,
      env: { ...process.env, HEARTH_DATA_DIR: dataDir } as Record<string, string>,
      timeout: WAIT_MS,
    });
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
