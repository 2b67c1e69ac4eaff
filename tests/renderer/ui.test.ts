// The real UI in real Chromium against the real `hearth serve`: the page must show this
// machine's worker serving, with its CPU device and memory bar.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scratchDir } from '../helpers/models.js';

const CHROMIUM = '/usr/bin/chromium';
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const WAIT_MS = 60_000;
// Without the global setup's prebuilt tools the worker builds them first (minutes on 2 cores).
const SERVING_WAIT_MS = 10 * 60_000;

let serve: ChildProcess | undefined;
let browser: Browser | undefined;
let output = '';

// Resolves with the first `ready` event; fails with what the CLI said if it exits first.
function startServe(): Promise<string> {
  const child = spawn(process.execPath, ['bin/hearth.js', 'serve', '--port', '0', '--rpc-port', '0', '--control-port', '0', '--link-port', '0', '--no-discovery', '--cache-dir', scratchDir(), '--json'], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own identity: never the user's cluster key.
    env: { ...process.env, HEARTH_DATA_DIR: scratchDir('hearth-data-') },
  });
  serve = child;
  child.stderr.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-4000);
  });
  return new Promise((resolve, reject) => {
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      output = (output + line + '\n').slice(-4000);
      let event: { event?: string; url?: string };
      try {
        event = JSON.parse(line) as typeof event;
      } catch {
        return reject(new Error(`hearth serve --json printed a line that is not JSON: ${line}`));
      }
      if (event.event === 'ready' && event.url) resolve(event.url);
    });
    child.once('exit', (code, signal) => reject(new Error(`hearth serve exited (${signal ?? code}) before it was ready:\n${output}`)));
  });
}

async function stopServe(): Promise<void> {
  const child = serve;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

describe('the web UI served by hearth serve', () => {
  let url: string;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    // CI installs Chromium; a missing browser must fail loudly, never pass as skipped.
    if (!fs.existsSync(CHROMIUM)) throw new Error(`Chromium is missing at ${CHROMIUM}: apt-get install chromium`);
    if (!fs.existsSync(new URL('../../dist/renderer/index.html', import.meta.url))) {
      throw new Error('The UI is not built (dist/renderer/index.html is missing): run npm run build');
    }
    url = await startServe();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    page = await browser.newPage();
    // A CSP violation or a script error means part of the page silently does not work.
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
  }, 2 * WAIT_MS);

  afterAll(async () => {
    await browser?.close();
    await stopServe();
  }, WAIT_MS);

  it('shows this machine with its worker serving and a CPU memory bar', async () => {
    await page.goto(url);
    await page.getByRole('heading', { name: os.hostname(), exact: true }).waitFor({ timeout: WAIT_MS });

    const workerState = page.getByLabel('Worker state');
    await workerState.filter({ hasText: /Serving|Error/ }).waitFor({ timeout: SERVING_WAIT_MS });
    if ((await workerState.textContent())?.includes('Error')) {
      throw new Error(`The worker failed: ${await page.getByRole('alert').textContent()}\n${output}`);
    }

    const cpuMemory = page.getByRole('progressbar', { name: /^CPU memory/ });
    await cpuMemory.waitFor({ state: 'visible', timeout: WAIT_MS });
    const used = Number(await cpuMemory.getAttribute('aria-valuenow'));
    expect(used).toBeGreaterThanOrEqual(0);
    expect(used).toBeLessThanOrEqual(100);
    expect(await cpuMemory.getAttribute('aria-valuetext')).toMatch(/free of/);
    await page.getByText(/^127\.0\.0\.1:\d+$/).waitFor({ timeout: WAIT_MS });

    expect(problems).toEqual([]);
  }, SERVING_WAIT_MS + 3 * WAIT_MS);
});
