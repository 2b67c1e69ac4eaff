// Reading the control API's arguments: every one is checked, and a mistake becomes a 4xx that
// says what was wrong.
import type http from 'node:http';
import { HttpError, readJsonBody } from '../net/http-replies.js';
import { isEntryName } from '../cache/entry-files.js';

/** More hashes than any model has tensors: a bigger list is a mistake or an attack. */
const MAX_HASHES = 100_000;

/** The request's JSON object body (`{}` when empty and `optional`), or a 400. */
export async function jsonObject(req: http.IncomingMessage, optional = false): Promise<Record<string, unknown>> {
  const body = await readJsonBody(req);
  if (body === undefined && optional) return {};
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'The body must be a JSON object');
  return body as Record<string, unknown>;
}

/** `body[field]` as a list of entry hashes, or a 400 / 413 naming the field. */
export function hashList(body: Record<string, unknown>, field: string): string[] {
  const value = body[field];
  if (!Array.isArray(value)) throw new HttpError(400, `"${field}" must be an array of entry hashes`);
  if (value.length > MAX_HASHES) throw new HttpError(413, `"${field}" holds more than ${MAX_HASHES} hashes`);
  for (const hash of value) if (typeof hash !== 'string' || !isEntryName(hash)) throw new HttpError(400, `"${String(hash)}" in "${field}" is not an entry hash (16 lowercase hex digits)`);
  return value as string[];
}

/** A URL path part, decoded, or a 400. */
export function decodePart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new HttpError(400, `"${part}" is not a valid URL path part`);
  }
}

/** An entry hash from a URL path part, or a 400. */
export function entryHash(part: string): string {
  const hash = decodePart(part);
  if (!isEntryName(hash)) throw new HttpError(400, `"${hash}" is not an entry name (16 lowercase hex digits)`);
  return hash;
}

/** A header holding a whole number of bytes: undefined when absent, a 400 naming it when malformed. */
export function byteCountHeader(req: http.IncomingMessage, name: string): number | undefined {
  const value = req.headers[name.toLowerCase()];
  if (value === undefined) return undefined;
  const count = typeof value === 'string' && /^\d{1,16}$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(count)) throw new HttpError(400, `${name} must be a whole number of bytes, got ${JSON.stringify(value)}`);
  return count;
}
