// Hearth's short HTTP requests, against a real server on loopback: the JSON body arrives as JSON,
// every status resolves, and a silent or endless answer is cut off instead of hanging or filling memory.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { answerJson, httpRequest, readText } from '../../../src-main/core/net/http-request.js';

const servers: http.Server[] = [];

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function serve(handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

describe('httpRequest', () => {
  it('posts its JSON body as JSON and reads the answer whole, whatever the status', async () => {
    const url = await serve(async (req, res) => {
      const body = await readText(req);
      res.writeHead(req.headers['content-type'] === 'application/json' ? 409 : 400, { 'content-type': 'application/json' });
      // Split inside a multi-byte character: the text must come back whole.
      const answer = Buffer.from(JSON.stringify({ method: req.method, got: JSON.parse(body), note: 'é' }));
      res.write(answer.subarray(0, answer.indexOf(0xc3) + 1));
      setTimeout(() => res.end(answer.subarray(answer.indexOf(0xc3) + 1)), 20);
    });
    const answer = await httpRequest(new URL('v1/cache/pins', url), { json: { hashes: ['a'] } });
    expect(answer.status).toBe(409);
    expect(answer.ok).toBe(false);
    expect(answerJson(answer)).toEqual({ method: 'POST', got: { hashes: ['a'] }, note: 'é' });
  });

  it('gets without a body, and answerJson gives null for an answer that is not JSON', async () => {
    const url = await serve((req, res) => res.end(`${req.method} ${req.headers['content-length'] ?? 'no length'}`));
    const answer = await httpRequest(url);
    expect(answer).toEqual({ status: 200, ok: true, text: 'GET no length' });
    expect(answerJson(answer)).toBeNull();
  });

  it('rejects when no answer comes within the time given, and when aborted', async () => {
    const url = await serve(() => undefined); // accepts, never answers
    await expect(httpRequest(url, { timeoutMs: 200 })).rejects.toThrow('no answer within 0.2 s');
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    await expect(httpRequest(url, { signal: controller.signal })).rejects.toThrow(/abort/i);
  });

  it('rejects when nothing comes for the idle time, however long the whole may take', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200);
      res.write('a');
      setTimeout(() => res.write('b'), 150);
      setTimeout(() => res.end('c'), 300); // never 200 ms without a byte
    });
    expect((await httpRequest(url, { idleTimeoutMs: 200 })).text).toBe('abc');
    const silent = await serve((_req, res) => {
      res.writeHead(200);
      res.write('a'); // then nothing
    });
    await expect(httpRequest(silent, { idleTimeoutMs: 200 })).rejects.toThrow('nothing came for 0.2 s');
  });

  it('rejects when nothing listens', async () => {
    const url = await serve(() => undefined);
    const server = servers.pop()!;
    await new Promise((resolve) => server.close(resolve));
    await expect(httpRequest(url, { timeoutMs: 5000 })).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe('readText', () => {
  it('refuses an answer longer than it takes, without reading it to the end', async () => {
    let written = 0;
    const url = await serve((_req, res) => {
      // An endless answer: a lying peer's.
      const more = () => {
        while (res.write('x'.repeat(64 * 1024))) written += 64 * 1024;
        if (written < 64 * 2 ** 20) res.once('drain', more);
      };
      more();
    });
    const response = await new Promise<http.IncomingMessage>((resolve, reject) => http.get(url, resolve).on('error', reject));
    await expect(readText(response, { maxChars: 100_000 })).rejects.toThrow('longer than 100000 characters');
    expect(written).toBeLessThan(64 * 2 ** 20);
    const again = await new Promise<http.IncomingMessage>((resolve, reject) => http.get(url, resolve).on('error', reject));
    expect(await readText(again, { maxChars: 300, cut: true })).toBe('x'.repeat(300));
  });
});
