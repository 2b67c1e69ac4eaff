// Where this machine's loaded model is served: written by `hearth load` (and the app) into the
// data folder, read by `hearth chat` and the UI, so nobody has to copy an address by hand.
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { isProcessAlive } from '../base/process-alive.js';
import { writeFileAtomic } from '../base/write-atomic.js';

/** The running coordinator's API. */
export interface ApiRecord {
  pid: number;
  /** Base URL ending in `/v1`. */
  baseUrl: string;
  apiKey: string | null;
  modelId: string;
}

function recordPath(dataDir: string): string {
  return path.join(dataDir, 'api.json');
}

/** The API a live coordinator on this machine serves, if any (a record whose process is gone does not count). */
export async function readApiRecord(dataDir: string): Promise<ApiRecord | undefined> {
  try {
    const record = JSON.parse(await readFile(recordPath(dataDir), 'utf8')) as ApiRecord;
    return isProcessAlive(record.pid) ? record : undefined;
  } catch {
    return undefined;
  }
}

/** Publish the API (atomically: a reader never sees half a record); returns the function that withdraws it. */
export async function writeApiRecord(dataDir: string, record: ApiRecord): Promise<() => Promise<void>> {
  const file = recordPath(dataDir);
  await writeFileAtomic(file, `${JSON.stringify(record)}\n`, { mode: 0o600 });
  return async () => {
    // Only our own record: a later coordinator may have replaced it.
    const current = await readApiRecord(dataDir);
    if (current?.pid === record.pid) await rm(file, { force: true });
  };
}
