// `PUT /api/upload?name=<file>.gguf`: a model file sent from a browser to the headless box's
// upload folder. It is written to a temporary name and renamed only once complete, so a dropped
// connection, a killed process or a full disk never leaves a partial file that looks like a model;
// a body that does not start like a GGUF file is refused after its first bytes.
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { access, mkdir, rename, rm, statfs } from 'node:fs/promises';
import type http from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { HttpError } from '../net/http-replies.js';

const GGUF_MAGIC = Buffer.from('GGUF', 'latin1');
/** A client that sends nothing for this long has gone: its partial file is removed. */
const IDLE_MS = 60_000;

/** Store the request body as `<dir>/<name>`; resolves with its path. */
export async function receiveUpload(req: http.IncomingMessage, dir: string): Promise<string> {
  const name = new URL(req.url ?? '/', 'http://upload').searchParams.get('name') ?? '';
  if (!/^[^/\\\0]{1,200}\.gguf$/i.test(name) || name.startsWith('.')) throw new HttpError(400, 'Give the file name as ?name=<model>.gguf (a .gguf file, no folders).');
  const declared = Number(req.headers['content-length']);
  if (!Number.isSafeInteger(declared) || declared < GGUF_MAGIC.length) throw new HttpError(411, 'Send the file with its Content-Length.');

  await mkdir(dir, { recursive: true });
  // Never replaced under a model that may be open or served; one of the same name and size is listed already, and opened instead.
  if (await exists(path.join(dir, name))) throw new HttpError(409, `A different "${name}" is already in the upload folder: rename your file, then drop it again.`);
  const disk = await statfs(dir);
  if (disk.bavail * disk.bsize < declared) throw new HttpError(507, `"${name}" needs ${declared} bytes but the disk holding ${dir} has ${disk.bavail * disk.bsize} free: free some space, then drop the file again.`);
  const target = path.join(dir, name);
  const partial = path.join(dir, `.${name}.${randomBytes(4).toString('hex')}.partial`);
  let received = 0;
  let head = Buffer.alloc(0);
  const check = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      received += chunk.length;
      if (head.length < GGUF_MAGIC.length) {
        head = Buffer.concat([head, chunk]).subarray(0, GGUF_MAGIC.length);
        if (head.length === GGUF_MAGIC.length && !head.equals(GGUF_MAGIC)) return done(new HttpError(415, `"${name}" is not a GGUF model (it does not start with "GGUF"): drop a .gguf file.`));
      }
      done(null, chunk);
    },
  });
  req.setTimeout(IDLE_MS, () => req.destroy(new Error('the upload stalled')));
  try {
    await pipeline(req, check, createWriteStream(partial, { flags: 'wx' }));
    if (received !== declared) throw new HttpError(400, `The upload of "${name}" ended after ${received} of ${declared} bytes: drop the file again.`);
    await rename(partial, target);
    return target;
  } catch (error) {
    await rm(partial, { force: true });
    if (error instanceof HttpError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC' || code === 'EDQUOT') throw new HttpError(507, `The disk holding ${dir} is full: free some space (or clear the tensor cache in Settings), then drop the file again.`);
    if (code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ECONNRESET' || code === 'ABORT_ERR' || req.destroyed) throw new HttpError(400, `The upload of "${name}" was interrupted; nothing was kept: drop the file again.`);
    throw error;
  }
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(() => true, () => false);
}
