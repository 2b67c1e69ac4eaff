// The HTTP plumbing every route shares: JSON replies, the security headers, and reading a JSON body.
import type http from 'node:http';

// A long chat is the largest argument a request carries (request-arguments.ts caps it at 4 MiB of text).
const MAX_BODY_BYTES = 8 * 1024 * 1024;

/**
 * For servers that receive uploads: no limit on a whole request (a model upload, or one tensor
 * pushed at a --max-rate, takes as long as it takes), but headers must still come within a minute.
 * Node takes the smaller of the two limits, so the headers' is set explicitly or it goes too.
 */
export const UPLOAD_SERVER_TIMEOUTS = { requestTimeout: 0, headersTimeout: 60_000 } as const;

/** A failure that becomes a JSON reply with this status and message. */
export class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** Reads the request body as JSON (undefined when empty), or throws an HttpError (413, 415, 400). */
export async function readJsonBody(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `Request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  if (size === 0) return undefined;
  if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) throw new HttpError(415, 'Send the argument as application/json');
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new HttpError(400, 'Request body is not valid JSON');
  }
}

/** Sets the headers every reply carries: a strict CSP, no framing, no sniffing, no referrer. */
export function setSecurityHeaders(res: http.ServerResponse, host: string | undefined, secure = false): void {
  // connect-src names the events socket exactly (wss over HTTPS); the Host was validated before any page is served.
  const socket = host && /^[A-Za-z0-9.:[\]-]+$/.test(host) ? ` ${secure ? 'wss' : 'ws'}://${host}` : '';
  res.setHeader('Content-Security-Policy', `default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'${socket}; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
}

/** Ends the reply with this status and the value as a JSON body. */
export function sendJson(res: http.ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}
