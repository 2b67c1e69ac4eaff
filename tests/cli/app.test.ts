import { execFile, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { HEARTH_BIN, REPO_ROOT } from '../helpers/cli.js';
import { scratchDir } from '../helpers/models.js';

describe('hearth app (npm start)', () => {
  it('without a display, says so in one line and serves the UI headless instead', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, HEARTH_DATA_DIR: scratchDir('hearth-data-') };
    delete env.DISPLAY;
    delete env.WAYLAND_DISPLAY;
    const child = spawn(process.execPath, [HEARTH_BIN, 'app', '--port', '0', '--rpc-port', '0', '--control-port', '0', '--link-port', '0', '--no-discovery', '--cache-dir', scratchDir(), '--json'], { cwd: REPO_ROOT, env });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    try {
      const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
      const first = await lines.next();
      const ready = JSON.parse(String(first.value)) as { event: string; url: string };
      expect(ready.event).toBe('ready');
      expect(ready.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      expect(stderr.trim().split('\n')).toEqual([expect.stringMatching(/^Electron cannot run here \(there is no display.*\); starting the headless server instead\.$/)]);

      const page = await fetch(ready.url);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<div id="app">');
      const status = await fetch(new URL('api/getStatus', ready.url), { method: 'POST' });
      expect(status.status).toBe(200);
      expect(await status.json()).toMatchObject({ hearthVersion: expect.any(String), worker: { state: expect.any(String) } });
    } finally {
      child.kill('SIGTERM');
      const exited = await Promise.race([
        new Promise((resolve) => child.once('exit', () => resolve(true))),
        new Promise((resolve) => setTimeout(resolve, 20_000, false)),
      ]);
      if (!exited) child.kill('SIGKILL');
      expect(exited, `hearth app did not exit within 20 s of SIGTERM; its stderr:\n${stderr}`).toBe(true);
    }
  });
});

describe('npx hearth', () => {
  it('runs the checkout\'s own command line', async () => {
    // --no: never fetch a package of the same name from the registry.
    const { stdout } = await promisify(execFile)('npx', ['--no', '--', 'hearth', '--version'], { cwd: REPO_ROOT });
    const { version } = JSON.parse(await readFile(`${REPO_ROOT}/package.json`, 'utf8')) as { version: string };
    expect(stdout.trim()).toBe(version);
  });
});
