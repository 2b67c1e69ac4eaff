// A model's manifest: its hashes and probes against the JS Fnv1a64, reuse while the file is
// unchanged, and a fresh one whenever the file or the stored manifest cannot be trusted.
import { copyFile, link, open, readFile, readdir, realpath, rename, stat, symlink, truncate, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Crc32c, Fnv1a64 } from '../../../../src-main/core/cache/checksums.js';
import { isHearthError } from '../../../../src-main/core/base/errors.js';
import { CACHED_TENSOR_MIN_BYTES, inspectModel } from '../../../../src-main/core/gguf/inspect-model.js';
import { sameFileVersion, type HashManifest } from '../../../../src-main/core/gguf/manifest/hash-manifest.js';
import { loadOrMakeManifest, type ManifestRequest } from '../../../../src-main/core/gguf/manifest/load-or-make-manifest.js';
import { storedManifestPath } from '../../../../src-main/core/gguf/manifest/manifest-store.js';
import { syntheticPresets } from '../../../helpers/synthetic/llama-model.js';
import { expectedEntries } from '../../../helpers/expected-cache.js';
import { scratchDir, syntheticModel } from '../../../helpers/models.js';

let original: string;
let first: HashManifest;

/** The manifest, and whether this call hashed (its progress callback ran). */
async function manifestOf(model: ManifestRequest['model'], dataDir: string): Promise<{ manifest: HashManifest; hashed: boolean }> {
  let hashed = false;
  const manifest = await loadOrMakeManifest({ model, dataDir, onProgress: () => (hashed = true) });
  return { manifest, hashed };
}

/** A private copy of the model, free to touch, change or truncate. */
async function copyOfModel(): Promise<string> {
  const copy = path.join(scratchDir('hearth-manifest-model-'), 'model.gguf');
  await copyFile(original, copy);
  return copy;
}

beforeAll(async () => {
  original = await syntheticModel('cacheSized');
  first = (await manifestOf(original, scratchDir('hearth-data-'))).manifest;
});

describe('the manifest of a model', () => {
  it('lists every tensor of 1 MiB or more, in file order, with its FNV-1a 64 and SHA-256 as the references compute them', async () => {
    const spec = syntheticPresets.cacheSized;
    const facts = await inspectModel(original);
    const listed = facts.tensors.filter((tensor) => tensor.byteSize >= 2 ** 20);
    // ffn gate/up/down (11 MiB) and attn q/output (2 MiB) per layer, token_embd, output; not attn k/v (512 KiB) nor the norms
    expect(listed).toHaveLength(5 * spec.layers + 2);
    expect(first.entries.map(({ tensor, offset, size }) => ({ tensor, offset, size }))).toEqual(listed.map((tensor) => ({ tensor: tensor.name, offset: tensor.fileOffset, size: tensor.byteSize })));
    const info = await stat(original);
    expect(first).toMatchObject({ version: 2, threshold: CACHED_TENSOR_MIN_BYTES, file: { size: info.size, mtimeMs: info.mtimeMs, ino: info.ino } });
    // The test helper hashes with Fnv1a64 (all but token_embd, which workers never cache).
    const reference = await expectedEntries(original, 'manifest');
    const byTensor = new Map(first.entries.map((entry) => [entry.tensor, entry]));
    for (const entry of reference) expect(byTensor.get(entry.tensor), entry.tensor).toMatchObject({ hash: entry.hash, digest: entry.digest });
    const embd = first.entries.find((entry) => entry.tensor === 'token_embd.weight')!;
    const file = await readFile(original);
    expect(embd.hash).toBe(new Fnv1a64().update(file.subarray(embd.offset, embd.offset + embd.size)).digestHex());
  });

  it('gives each entry a probe: FNV-1a 64 of its first 4096 bytes then its last 4096', async () => {
    const file = await readFile(original);
    for (const entry of first.entries) {
      const tensor = file.subarray(entry.offset, entry.offset + entry.size);
      const probe = new Fnv1a64().update(tensor.subarray(0, 4096)).update(tensor.subarray(entry.size - 4096)).digestHex();
      expect(entry.probe, entry.tensor).toBe(probe);
      expect(entry.probe).not.toBe(entry.hash);
    }
  });

  it('the same manifest comes from the model\'s facts and from its path through a symbolic link', async () => {
    const linked = path.join(scratchDir('hearth-link-'), 'linked.gguf');
    await symlink(original, linked);
    const dataDir = scratchDir('hearth-data-');
    const fromFacts = await manifestOf(await inspectModel(original), dataDir);
    expect(fromFacts).toEqual({ manifest: first, hashed: true });
    // The link resolves to the same real path: the stored manifest serves it.
    expect(await manifestOf(linked, dataDir)).toEqual({ manifest: first, hashed: false });
  });
});

describe('reuse', () => {
  it('a second call uses the stored manifest without hashing, until the file is touched', async () => {
    const model = await copyOfModel();
    const dataDir = scratchDir('hearth-data-');
    const made = await manifestOf(model, dataDir);
    expect(made.hashed).toBe(true);
    const stored = storedManifestPath(dataDir, made.manifest.file.path);
    expect(await readdir(path.dirname(stored))).toEqual([path.basename(stored)]); // no temporary file left behind
    expect(await manifestOf(model, dataDir)).toEqual({ manifest: made.manifest, hashed: false });

    const later = new Date(Date.now() + 60_000);
    await utimes(model, later, later);
    const touched = await manifestOf(model, dataDir);
    expect(touched.hashed).toBe(true);
    expect(touched.manifest.file.mtimeMs).toBe((await stat(model)).mtimeMs);
    expect(touched.manifest.entries).toEqual(made.manifest.entries);
    expect(await manifestOf(model, dataDir)).toEqual({ manifest: touched.manifest, hashed: false });
  });

  it('a changed tensor gets its new hash; a file replaced by a copy (new inode) is hashed again', async () => {
    const model = await copyOfModel();
    const dataDir = scratchDir('hearth-data-');
    const before = (await manifestOf(model, dataDir)).manifest;
    const victim = before.entries[2]!;
    const handle = await open(model, 'r+');
    await handle.write(Buffer.alloc(64, 0x5a), 0, 64, victim.offset + 1_000_000);
    await handle.close();
    const mtime = new Date((await stat(model)).mtimeMs + 5000); // a distinct mtime even on a coarse clock
    await utimes(model, mtime, mtime);
    const changed = await manifestOf(model, dataDir);
    expect(changed.hashed).toBe(true);
    const bytes = await readFile(model);
    expect(changed.manifest.entries[2]!.hash).toBe(new Fnv1a64().update(bytes.subarray(victim.offset, victim.offset + victim.size)).digestHex());
    expect(changed.manifest.entries[2]!.hash).not.toBe(victim.hash);
    expect(changed.manifest.entries.filter((_, i) => i !== 2)).toEqual(before.entries.filter((_, i) => i !== 2));

    // Same size and modification time, another inode: a different file as far as the manifest knows.
    const replacement = `${model}.new`;
    await copyFile(model, replacement);
    await utimes(replacement, mtime, mtime);
    await rename(replacement, model);
    const info = await stat(model);
    expect(info.ino).not.toBe(changed.manifest.file.ino);
    expect(sameFileVersion(changed.manifest.file, { path: changed.manifest.file.path, size: info.size, mtimeMs: info.mtimeMs, ino: info.ino })).toBe(false);
    const replaced = await manifestOf(model, dataDir);
    expect(replaced.hashed).toBe(true);
    expect(replaced.manifest.file.ino).toBe(info.ino);
  });

  it('sameFileVersion compares real path, size, modification time and inode', () => {
    const file = first.file;
    expect(sameFileVersion(file, { ...file })).toBe(true);
    expect(sameFileVersion(file, { ...file, path: `${file.path}.other` })).toBe(false);
    expect(sameFileVersion(file, { ...file, size: file.size - 1 })).toBe(false);
    expect(sameFileVersion(file, { ...file, mtimeMs: file.mtimeMs + 1 })).toBe(false);
    expect(sameFileVersion(file, { ...file, ino: file.ino + 1 })).toBe(false);
  });
});

describe('a stored manifest that cannot be trusted is made again', () => {
  const damages: Array<[string, (text: string) => string]> = [
    ['cut short', (text) => text.slice(0, text.length / 2)],
    ['not JSON at all', () => '\u0000\u0001garbage'],
    ['one hash digit changed', (text) => text.replace(/"hash":"([0-9a-f])/, (_, digit: string) => `"hash":"${digit === '0' ? '1' : '0'}`)],
    ['another version', (text) => text.replace('"version":2', '"version":3')],
    ['one digest digit changed', (text) => text.replace(/"digest":"sha256:([0-9a-f])/, (_, digit: string) => `"digest":"sha256:${digit === '0' ? '1' : '0'}`)],
    ['an entry missing its probe', (text) => text.replace(/,"probe":"[0-9a-f]{16}"/, '')],
  ];

  for (const [what, damage] of damages) {
    it(`${what}`, async () => {
      const model = await copyOfModel();
      const dataDir = scratchDir('hearth-data-');
      const made = (await manifestOf(model, dataDir)).manifest;
      const stored = storedManifestPath(dataDir, made.file.path);
      const damaged = damage(await readFile(stored, 'utf8'));
      expect(damaged).not.toBe(await readFile(stored, 'utf8'));
      await writeFile(stored, damaged);
      expect(await manifestOf(model, dataDir)).toEqual({ manifest: made, hashed: true });
      // And the repaired file is trusted again.
      expect(await manifestOf(model, dataDir)).toEqual({ manifest: made, hashed: false });
    });
  }

  it('a whole manifest of version 1, from before digests, with its own valid checksum', async () => {
    const model = await copyOfModel();
    const dataDir = scratchDir('hearth-data-');
    const made = (await manifestOf(model, dataDir)).manifest;
    // Exactly what the last Hearth without digests wrote: no digest per entry, its CRC-32C over its own canonical JSON.
    const old = { version: 1, file: made.file, threshold: made.threshold, entries: made.entries.map(({ tensor, offset, size, hash, probe }) => ({ tensor, offset, size, hash, probe })) };
    await writeFile(storedManifestPath(dataDir, made.file.path), `${JSON.stringify({ ...old, crc32c: new Crc32c().update(Buffer.from(JSON.stringify(old))).hex() })}\n`);
    expect(await manifestOf(model, dataDir)).toEqual({ manifest: made, hashed: true });
  });

  it('a whole, valid manifest of another path', async () => {
    // A hard link is another path to the same inode, size and time: only the path tells them apart.
    const model = await realpath(await copyOfModel());
    const other = path.join(path.dirname(model), 'hard-link.gguf');
    await link(model, other);
    const dataDir = scratchDir('hearth-data-');
    const foreign = (await manifestOf(other, dataDir)).manifest;
    const real = await stat(model);
    expect(sameFileVersion(foreign.file, { path: model, size: real.size, mtimeMs: real.mtimeMs, ino: real.ino })).toBe(false);
    expect([foreign.file.size, foreign.file.mtimeMs, foreign.file.ino]).toEqual([real.size, real.mtimeMs, real.ino]);
    await copyFile(storedManifestPath(dataDir, foreign.file.path), storedManifestPath(dataDir, model));
    const own = await manifestOf(model, dataDir);
    expect(own.hashed).toBe(true);
    expect(own.manifest).toEqual({ ...foreign, file: { ...foreign.file, path: model } });
  });
});

describe('a damaged model', () => {
  it('a truncated model is a HearthError naming the file, and no manifest is stored', async () => {
    const model = await copyOfModel();
    const dataDir = scratchDir('hearth-data-');
    const facts = await inspectModel(model);
    await truncate(model, facts.fileBytes - 1_000_000);
    for (const request of [model, facts]) {
      const error = await loadOrMakeManifest({ model: request, dataDir }).catch((caught: unknown) => caught);
      expect(isHearthError(error), String(error)).toBe(true);
      expect((error as Error).message).toContain(model);
      expect((error as Error).message).toMatch(/truncated: tensor output\.weight ends at byte \d+ but the file has \d+ bytes/);
    }
    await expect(readdir(dataDir)).resolves.toEqual([]);
  });

  it('a missing model is a HearthError naming the path', async () => {
    const missing = path.join(scratchDir('hearth-missing-'), 'gone.gguf');
    await expect(loadOrMakeManifest({ model: missing, dataDir: scratchDir('hearth-data-') })).rejects.toThrow(`${missing}: no such file`);
  });
});
