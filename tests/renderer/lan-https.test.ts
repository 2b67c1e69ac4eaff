// `hearth serve --host` for the LAN, as a user runs it: HTTPS only, with this machine's own
// certificate, whose fingerprint the terminal prints. Real Chromium trusts exactly that
// certificate (pinned by its public key, as a user who compared the fingerprint would) and uses
// the whole UI over it: the page, the API with its token, the events over wss, a pairing code.
// Plain HTTP to the same port gets nothing at all.
import { createHash, X509Certificate } from 'node:crypto';
import http from 'node:http';
import os from 'node:os';
import tls from 'node:tls';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHearth, stopped, type Running } from '../helpers/hearth-process.js';
import { scratchDir } from '../helpers/models.js';

const CHROMIUM = '/usr/bin/chromium';
const WAIT_MS = 60_000;

let serve: Running;
let ready: { url: string; fingerprint: string };
let browser: Browser | undefined;

beforeAll(async () => {
  serve = startHearth(
    ['serve', '--json', '--host', '0.0.0.0', '--port', '0', '--api-port', '0', '--rpc-port', '0', '--control-port', '0', '--link-port', '0', '--no-discovery', '--cache-dir', scratchDir()],
    { HEARTH_DATA_DIR: scratchDir('hearth-data-') },
  );
  ready = (await serve.next('ready')) as unknown as typeof ready;
}, WAIT_MS);

afterAll(async () => {
  await browser?.close();
  if (serve) await stopped(serve);
});

/** The certificate the server shows a TLS client, whatever it is. */
function servedCertificate(port: number): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      resolve(new X509Certificate(socket.getPeerCertificate().raw));
      socket.end();
    });
    socket.on('error', reject);
  });
}

describe('hearth serve --host 0.0.0.0', () => {
  it('prints an https URL with its token, and the fingerprint of the certificate it serves', async () => {
    expect(ready.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+$/);
    expect(ready.fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    const served = await servedCertificate(Number(new URL(ready.url).port));
    expect(served.fingerprint256).toBe(ready.fingerprint);
    expect(served.subject).toContain(`CN=Hearth on ${os.hostname()}`);
  });

  it('answers plain HTTP on its port with nothing: no page, no API, no token accepted', async () => {
    const { port } = new URL(ready.url);
    const plain = new Promise<number>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/api/showPairingCode', headers: { Authorization: `Bearer ${new URL(ready.url).searchParams.get('token')}` } }, (res) => resolve(res.statusCode ?? 0));
      req.on('error', reject);
      req.end();
    });
    await expect(plain).rejects.toThrow();
  });

  it('serves the whole UI to a browser that trusts its certificate, pairing code included', async () => {
    const served = await servedCertificate(Number(new URL(ready.url).port));
    // Chromium accepts this one key's certificate and no other: the user's check of the fingerprint, made by the test.
    const spki = createHash('sha256').update(served.publicKey.export({ type: 'spki', format: 'der' })).digest('base64');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', `--ignore-certificate-errors-spki-list=${spki}`] });
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (message) => void (message.type() === 'error' && problems.push(message.text())));
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(ready.url);
    await page.getByRole('heading', { name: os.hostname(), exact: true }).waitFor({ timeout: WAIT_MS });
    await page.getByRole('tab', { name: 'Cluster' }).click();
    const screen = page.getByRole('tabpanel', { name: 'Cluster' });
    const show = screen.getByRole('button', { name: 'Show pairing code' });
    await show.and(page.locator(':enabled')).waitFor({ timeout: WAIT_MS });
    await show.click();
    // The code arrives over the API and again with the cluster's event on the wss socket.
    await expect.poll(async () => screen.locator('output[aria-label="Pairing code"]').textContent(), { timeout: WAIT_MS }).toMatch(/^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
    expect(problems).toEqual([]);
  }, 3 * WAIT_MS);
});
