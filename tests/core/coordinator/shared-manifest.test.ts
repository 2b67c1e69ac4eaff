// The open model's manifest is made once however many ask, with progress for each, and a new
// model's aborts the old one's making (its late result can never stand in for the new model's).
import { describe, expect, it } from 'vitest';
import type { HashManifest } from '../../../src-main/core/gguf/manifest/hash-manifest.js';
import type { ManifestRequest } from '../../../src-main/core/gguf/manifest/load-or-make-manifest.js';
import { SharedManifest } from '../../../src-main/core/coordinator/shared-manifest.js';

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
    await shared.of('/m/a.gguf');
    expect(makings).toHaveLength(1);
  });

  it('aborts the old model\'s making when another model is asked for', async () => {
    const { make, makings } = handMaker();
    const shared = new SharedManifest(make, '/data');
    const old = shared.of('/m/a.gguf');
    const next = shared.of('/m/b.gguf');
    await expect(old).rejects.toThrow(/aborted/);
    expect(makings[0]!.request.signal!.aborted).toBe(true);
    makings[1]!.finish();
    await expect(next).resolves.toMatchObject({ file: { path: '/m/b.gguf' } });
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
