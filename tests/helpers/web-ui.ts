// The web UI under test: `hearth serve` as a user starts it, and Debian's Chromium through
// playwright-core, every console error and page error collected (a CSP violation or a script
// error means part of the page silently does not work).
import fs from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startHearth, stopped, type Running } from './hearth-process.js';
import { scratchDir } from './models.js';

const CHROMIUM = '/usr/bin/chromium';

/** Where UI tests leave their screenshots (gitignored). */
const SCREENSHOT_DIR = new URL('../../test-output/screenshots/', import.meta.url).pathname;

export interface ServedUi {
  serve: Running;
  url: string;
  browser: Browser;
  page: Page;
  /** Console errors and page errors so far. */
  problems: string[];
  screenshot(name: string): Promise<void>;
  close(): Promise<void>;
}

/** Start `hearth serve` (free ports, discovery off, its own cache) with `args`, and open its URL in Chromium. */
export async function serveUi(options: { dataDir?: string; args?: string[]; viewport?: { width: number; height: number } } = {}): Promise<ServedUi> {
  // CI installs Chromium and builds the UI; a missing one must fail loudly, never pass as skipped.
  if (!fs.existsSync(CHROMIUM)) throw new Error(`Chromium is missing at ${CHROMIUM}: apt-get install chromium`);
  if (!fs.existsSync(new URL('../../dist/renderer/index.html', import.meta.url))) throw new Error('The UI is not built (dist/renderer/index.html is missing): run npm run build');
  const serve = startHearth(
    ['serve', '--json', '--port', '0', '--api-port', '0', '--rpc-port', '0', '--control-port', '0', '--link-port', '0', '--no-discovery', '--cache-dir', scratchDir(), ...(options.args ?? [])],
    // Its own identity: never the user's cluster key.
    { HEARTH_DATA_DIR: options.dataDir ?? scratchDir('hearth-data-') },
  );
  const ready = await serve.next('ready');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  const page = await browser.newPage({ viewport: options.viewport ?? { width: 1024, height: 700 } });
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  return {
    serve,
    url: String(ready.url),
    browser,
    page,
    problems,
    screenshot: async (name) => void (await page.screenshot({ path: `${SCREENSHOT_DIR}${name}.png`, fullPage: true })),
    close: async () => {
      await browser.close();
      await stopped(serve);
    },
  };
}
