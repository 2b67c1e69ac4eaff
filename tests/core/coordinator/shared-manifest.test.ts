// A model's manifest is made once however many ask, with progress for each; two models' makings
// stay apart, and dropping aborts what is still being made.
import { realpath, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { HashManifest } from '../../../src-main/core/gguf/manifest/hash-manifest.js';
import type { ManifestRequest } from '../../../src-main/core/gguf/manifest/load-or-make-manifest.js';
import { SharedManifest } from '../../../src-main/core/coordinator/shared-manifest.js';
import { scratchDir } from '../../helpers/models.js';

/** A maker whose makings the test finishes by hand. */
function handMaker() {
  const makings: { request: ManifestRequest; finish: () => void }[] = [];
  const make = (request: ManifestRequest) => new Promise<HashManifest>((resolve, reject) => {
    request.signal?.addEventListener('abort', () => reject(new Error('aborted')));
    makings.push({ request, finish: () => resolve({ file: { path: String(request.model) } } as HashManifest) });
  });
  return { make, makings };
}

describe('SharedManifest', () => {
  it('makes a model\'s manifest once for every asker, each hearing the progress', async () => {
    const { make, makings } = handMaker();
    const shared = new SharedManifest(make, '/data');
    const heard: number[][] = [[], []];
    const first = shared.of('/m/a.gguf', (fraction) => heard[0]!.push(fraction));
    const second = shared.of('/m/a.gguf', (fraction) => heard[1]!.push(fraction));
    expect(makings).toHaveLength(1);
    makings[0]!.request.onProgress!({ bytesDone: 1, bytesTotal: 4 });
    makings[0]!.finish();
    await expect(first).resolves.toMatchObject({ file: { path: '/m/a.gguf' } });
    await expect(second).resolves.toMatchObject({ file: { path: '/m/a.gguf' } });
    expect(heard).toEqual([[0.25], [0.25]]);
  });

  it('keeps a made manifest while its file is the same version, and makes it again once the file changed', async () => {
    const file = path.join(scratchDir(), 'model.gguf');
    await writeFile(file, 'version one');
    const makings: string[] = [];
    const make = async (request: ManifestRequest) => {
      makings.push(String(request.model));
      const real = await realpath(file);
      const info = await stat(real);
      return { file: { path: real, size: info.size, mtimeMs: info.mtimeMs, ino: info.ino } } as HashManifest;
    };
    const shared = new SharedManifest(make, '/data');
    await shared.of(file);
    await shared.of(file);
    expect(makings).toHaveLength(1);
    await writeFile(file, 'version two, longer');
    await shared.of(file);
    expect(makings).toHaveLength(2);
  });

  it('keeps two models\' makings apart, and drop aborts what is still being made', async () => {
    const { make, makings } = handMaker();
    const shared = new SharedManifest(make, '/data');
    const a = shared.of('/m/a.gguf');
    const b = shared.of('/m/b.gguf');
    makings[1]!.finish();
    await expect(b).resolves.toMatchObject({ file: { path: '/m/b.gguf' } });
    shared.drop();
    await expect(a).rejects.toThrow(/aborted/);
    expect(makings[0]!.request.signal!.aborted).toBe(true);
    // Dropped: the next asker makes it again.
    void shared.of('/m/b.gguf').catch(() => undefined);
    expect(makings).toHaveLength(3);
  });

  it('ends one asker\'s wait on its signal without stopping the making others wait on', async () => {
    const { make, makings } = handMaker();
    const shared = new SharedManifest(make, '/data');
    const stop = new AbortController();
    const impatient = shared.of('/m/a.gguf', undefined, stop.signal);
    const patient = shared.of('/m/a.gguf');
    stop.abort(new Error('stopped'));
    await expect(impatient).rejects.toThrow(/stopped/);
    expect(makings[0]!.request.signal!.aborted).toBe(false);
    makings[0]!.finish();
    await expect(patient).resolves.toMatchObject({ file: { path: '/m/a.gguf' } });
  });
});
