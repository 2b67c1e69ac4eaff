// Serving the built UI: files under the static root only, with content types and caching that suit
// Vite's output, and a helpful page instead of a 404 when the UI has not been built.
import fs from 'node:fs/promises';
import type http from 'node:http';
import path from 'node:path';
import { sendJson } from '../net/http-replies.js';

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** Answers a GET or HEAD for a URL path with the file under root, or a JSON error. */
export async function serveStatic(req: http.IncomingMessage, res: http.ServerResponse, rawPath: string, root: string): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    return sendJson(res, 405, { error: 'Use GET' });
  }
  let relative: string;
  try {
    relative = decodeURIComponent(rawPath);
  } catch {
    return sendJson(res, 400, { error: 'Malformed path' });
  }
  if (relative.includes('\0')) return sendJson(res, 400, { error: 'Malformed path' });
  if (relative === '/') relative = '/index.html';
  const isIndex = relative === '/index.html';
  const file = await resolveInside(root, relative);
  if (!file) {
    if (isIndex) return sendNotBuilt(res, req.method === 'HEAD');
    return sendJson(res, 404, { error: 'Not found' });
  }
  const body = await fs.readFile(file);
  res.statusCode = 200;
  res.setHeader('Content-Type', contentTypes[path.extname(file).toLowerCase()] ?? 'application/octet-stream');
  res.setHeader('Content-Length', body.length);
  // Vite names assets by content hash, so they never change; index.html must always be fresh.
  res.setHeader('Cache-Control', relative.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-store');
  res.end(req.method === 'HEAD' ? undefined : body);
}

// The file for a URL path, or null when it is missing or would escape the root (also through links).
async function resolveInside(root: string, relative: string): Promise<string | null> {
  const inside = (p: string, r: string): boolean => p.startsWith(r + path.sep);
  const candidate = path.resolve(root, `.${relative}`);
  if (!inside(candidate, root)) return null;
  try {
    const [real, realRoot] = await Promise.all([fs.realpath(candidate), fs.realpath(root)]);
    if (!inside(real, realRoot)) return null;
    return (await fs.stat(real)).isFile() ? real : null;
  } catch {
    return null;
  }
}

function sendNotBuilt(res: http.ServerResponse, head: boolean): void {
  const page = '<!doctype html><meta charset="utf-8"><title>Hearth UI not built</title>' +
    '<h1>The Hearth UI is not built yet</h1><p>Run <code>npm run build</code> in the Hearth folder, then reload this page.</p>';
  res.statusCode = 503;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.end(head ? undefined : page);
}
