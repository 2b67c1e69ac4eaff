// Moves what a build step compiled into the build folder programs run from. The folder appears
// whole or not at all; later steps only add files beside those already there (a running
// worker's libraries are never rewritten) and then the record that names the new program.
import { cp, lstat, mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BUILD_RECORD, type BuildRecord } from './build-record.js';

/** Publish the files of `binFrom` into `<finalDir>/bin` with `record` as its build.json. */
export async function publishBuild(finalDir: string, binFrom: string, record: BuildRecord): Promise<void> {
  const json = `${JSON.stringify(record, null, 2)}\n`;
  if (!(await exists(path.join(finalDir, BUILD_RECORD)))) {
    // First step: staged beside the final name, then renamed into place in one move.
    const staging = `${finalDir}.publishing`;
    await rm(staging, { recursive: true, force: true });
    await mkdir(staging, { recursive: true });
    await cp(binFrom, path.join(staging, 'bin'), { recursive: true, verbatimSymlinks: true });
    await writeFile(path.join(staging, BUILD_RECORD), json);
    // A folder without a record is no build (a crash between the two lines below): it goes.
    await rm(finalDir, { recursive: true, force: true });
    await rename(staging, finalDir);
    return;
  }
  const binDir = path.join(finalDir, 'bin');
  for (const name of await readdir(binFrom)) {
    if (await exists(path.join(binDir, name))) continue;
    // Each new file lands under a hidden name first, so none is ever seen half-copied.
    const adding = path.join(binDir, `.${name}.adding`);
    await rm(adding, { recursive: true, force: true });
    await cp(path.join(binFrom, name), adding, { recursive: true, verbatimSymlinks: true });
    await rename(adding, path.join(binDir, name));
  }
  // The record last: until it names the new program, the folder is what it was.
  const recordAdding = path.join(finalDir, `.${BUILD_RECORD}.adding`);
  await writeFile(recordAdding, json);
  await rename(recordAdding, path.join(finalDir, BUILD_RECORD));
}

/** True for any entry, a dangling link included. */
async function exists(file: string): Promise<boolean> {
  return lstat(file).then(() => true, () => false);
}
