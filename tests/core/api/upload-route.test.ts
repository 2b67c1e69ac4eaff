// Model files sent from a browser (`PUT /api/upload`) through the real web server: a good file
// lands under its name; a file that is not GGUF, a body cut short or a bad name keeps nothing.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebServer, type WebServer } from '../../../src-main/core/api/web-server.js';
import { transportHost } from '../../../src-main/core/api/transport-guard.js';
import { partialRequests } from '../../helpers/partial-requests.js';
import { scratchDir } from '../../helpers/models.js';

let server: WebServer;
let uploadDir: string;
let staticDir: string;

beforeAll(async () => {
  staticDir = scratchDir('hearth-ui-');
  await fs.writeFile(path.join(staticDir, 'index.html'), '<!doctype html><title>Hearth</title>');
  uploadDir = path.join(scratchDir('hearth-uploads-'), 'uploads');
  server = await startWebServer({ port: 0, staticDir, uploadDir, hearth: transportHost({ requests: partialRequests({}), on: () => () => undefined }) });
});
afterAll(() => server.close());

/** PUT `chunks` with a Content-Length of `length` (more than sent: the client then hangs up). */
function put(name: string, chunks: Buffer[], length = chunks.reduce((sum, chunk) => sum + chunk.length, 0), target = server): Promise<{ status: number; body: { path?: string; error?: string } } | 'hung up'> {
  const { port } = new URL(target.url);
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'PUT', path: `/api/upload?name=${encodeURIComponent(name)}`, headers: { 'content-length': String(length), 'content-type': 'application/octet-stream' } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (part: Buffer) => parts.push(part));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(parts).toString('utf8')) as { path?: string; error?: string } }));
    });
    req.on('error', () => resolve('hung up'));
    for (const chunk of chunks) req.write(chunk);
    const sent = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
    if (sent === length) req.end();
    else setTimeout(() => req.destroy(), 200);
  });
}

async function uploadFolder(): Promise<string[]> {
  return (await fs.readdir(uploadDir).catch(() => [] as string[])).sort();
}

describe('PUT /api/upload', () => {
  it('stores a GGUF file under its name and answers its path', async () => {
    const body = Buffer.concat([Buffer.from('GGUF'), Buffer.alloc(300_000, 7)]);
    const reply = await put('tiny.gguf', [body.subarray(0, 2), body.subarray(2)]);
    expect(reply).toEqual({ status: 201, body: { path: path.join(uploadDir, 'tiny.gguf') } });
    expect((await fs.readFile(path.join(uploadDir, 'tiny.gguf'))).equals(body)).toBe(true);
    expect(await uploadFolder()).toEqual(['tiny.gguf']);
  });

  it('never replaces a file of the same name (it may be the model being served)', async () => {
    const reply = await put('tiny.gguf', [Buffer.concat([Buffer.from('GGUF'), Buffer.alloc(10, 1)])]);
    expect(reply).toMatchObject({ status: 409, body: { error: expect.stringMatching(/rename your file/) } });
    expect((await fs.stat(path.join(uploadDir, 'tiny.gguf'))).size).toBe(300_004);
  });

  it('refuses a file that is not GGUF after its first bytes, and keeps nothing', async () => {
    const reply = await put('notes.gguf', [Buffer.from('just some text, not a model')]);
    expect(reply).toMatchObject({ status: 415, body: { error: expect.stringMatching(/not a GGUF model/) } });
    expect(await uploadFolder()).toEqual(['tiny.gguf']);
  });

  it('keeps nothing of an upload cut short', async () => {
    const reply = await put('cut.gguf', [Buffer.concat([Buffer.from('GGUF'), Buffer.alloc(10_000)])], 1_000_000);
    expect(reply).toBe('hung up');
    // The server notices the hang-up and removes its partial file.
    for (let tries = 0; tries < 50 && (await uploadFolder()).length > 1; tries++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await uploadFolder()).toEqual(['tiny.gguf']);
  });

  it('refuses a file larger than the free space, with what to do', async ({ onTestFinished }) => {
    // A 1 MiB tmpfs stands in for a full disk (the tests run as root, as the cluster tests do).
    const small = scratchDir('hearth-full-');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', small]);
    onTestFinished(() => void execFileSync('umount', [small]));
    const full = await startWebServer({ port: 0, staticDir, uploadDir: small, hearth: transportHost({ requests: partialRequests({}), on: () => () => undefined }) });
    onTestFinished(() => full.close());
    const reply = await put('big.gguf', [Buffer.concat([Buffer.from('GGUF'), Buffer.alloc(2 * 1024 * 1024)])], undefined, full);
    expect(reply).toMatchObject({ status: 507, body: { error: expect.stringMatching(/free some space/) } });
    expect(await fs.readdir(small)).toEqual([]);
  });

  it.each([['../escape.gguf'], ['model.bin'], ['.hidden.gguf']])('refuses the name %s', async (name) => {
    const reply = await put(name, [Buffer.from('GGUF0000')]);
    expect(reply).toMatchObject({ status: 400, body: { error: expect.stringMatching(/\.gguf/) } });
    expect(await uploadFolder()).toEqual(['tiny.gguf']);
  });
});
