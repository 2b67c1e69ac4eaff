import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { readdir, readFile, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { Crc32c, Fnv1a64 } from '../../../src-main/core/cache/checksums.js';
import {
  admitEntry, checkPath, EntryRefusedError, entryPath, formatCheck, isEntryName, listEntries, parseCheck, removeEntry, sweepLeftovers, verifyEntry,
  type EntryRefusal,
} from '../../../src-main/core/cache/entry-files.js';

function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hearth-entries-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Random bytes and their entry name. */
function sample(size = 300_000): { bytes: Uint8Array; hash: string } {
  const bytes = new Uint8Array(randomBytes(size));
  return { bytes, hash: new Fnv1a64().update(bytes).digestHex() };
}

/** A copy of `bytes` with one bit flipped at `index`. */
function flip(bytes: Uint8Array, index: number): Uint8Array {
  const copy = bytes.slice();
  copy[index] = bytes[index]! ^ 0x01;
  return copy;
}

async function* chunks(bytes: Uint8Array, size = 64 * 1024): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < bytes.length; offset += size) yield bytes.subarray(offset, offset + size);
}

// Like a connection that drops after `after` bytes.
async function* dropsAfter(bytes: Uint8Array, after: number): AsyncGenerator<Uint8Array> {
  yield* chunks(bytes.subarray(0, after));
  throw new Error('connection reset');
}

/** Every file's name and a digest of its contents, to compare a folder before and after. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const name of (await readdir(dir)).sort()) files[name] = createHash('sha256').update(await readFile(path.join(dir, name))).digest('hex');
  return files;
}

async function refusal(promise: Promise<unknown>): Promise<EntryRefusal | 'other'> {
  const error = await promise.then(() => undefined, (caught: unknown) => caught);
  if (error instanceof EntryRefusedError) {
    expect(error.code).toBe('cache-entry-refused');
    expect(error.message.length).toBeGreaterThan(20);
    return error.reason;
  }
  if (error === undefined) throw new Error('expected a refusal, but it resolved');
  return 'other';
}

/** A folder holding one admitted entry, so "nothing changed" compares against something. */
async function folderWithOneEntry(): Promise<{ dir: string; bytes: Uint8Array; hash: string }> {
  const dir = tempDir();
  const { bytes, hash } = sample(50_000);
  await admitEntry(dir, hash, bytes.length, chunks(bytes));
  return { dir, bytes, hash };
}

describe('entry names and sidecars', () => {
  it('accepts exactly 16 lowercase hex digits as an entry name', () => {
    expect(isEntryName('0123456789abcdef')).toBe(true);
    for (const name of ['0123456789ABCDEF', '0123456789abcde', '0123456789abcdef0', '0123456789abcdeg', '0123456789abcdef.check', '../123456789abcde', '']) {
      expect(isEntryName(name)).toBe(false);
    }
    expect(entryPath('/c/rpc', '0123456789abcdef')).toBe(path.join('/c/rpc', '0123456789abcdef'));
    expect(checkPath('/c/rpc', '0123456789abcdef')).toBe(path.join('/c/rpc', '0123456789abcdef.check'));
  });

  it('formats and parses the one-line sidecar', () => {
    expect(formatCheck({ crc32c: 0xe3069283, size: 9 })).toBe('crc32c=e3069283 size=9\n');
    expect(formatCheck({ crc32c: 1, size: 0 })).toBe('crc32c=00000001 size=0\n');
    for (const check of [{ crc32c: 0, size: 0 }, { crc32c: 0xffffffff, size: 2 ** 40 + 3 }, { crc32c: 0x0badf00d, size: 11_534_336 }]) {
      expect(parseCheck(formatCheck(check))).toEqual(check);
    }
    expect(() => formatCheck({ crc32c: -1, size: 1 })).toThrow(RangeError);
    expect(() => formatCheck({ crc32c: 2 ** 32, size: 1 })).toThrow(RangeError);
    expect(() => formatCheck({ crc32c: 1, size: 1.5 })).toThrow(RangeError);
    expect(() => formatCheck({ crc32c: 1, size: -1 })).toThrow(RangeError);
  });

  it('parses strictly: anything but the exact line is an error', () => {
    const bad = [
      '', 'crc32c=e3069283 size=9', 'crc32c=e3069283 size=9\r\n', 'crc32c=E3069283 size=9\n', 'crc32c=e306928 size=9\n',
      'crc32c=e3069283  size=9\n', ' crc32c=e3069283 size=9\n', 'crc32c=e3069283 size=09\n', 'crc32c=e3069283 size=-9\n',
      'crc32c=e3069283 size=9\n\n', 'crc32c=e3069283 size=9\nextra\n', 'size=9 crc32c=e3069283\n', 'crc32c=e3069283 size=9.0\n',
      'crc32c=e3069283 size=99999999999999999999\n', 'crc32c=0xe30692 size=9\n',
    ];
    for (const text of bad) expect(() => parseCheck(text), JSON.stringify(text)).toThrow(/Not a cache sidecar line/);
  });
});

describe('admitEntry', () => {
  it('streams bytes into place with a sidecar, leaving no temporary file', async () => {
    const dir = tempDir();
    const { bytes, hash } = sample();
    const crc32c = new Crc32c().update(bytes).digest();
    const result = await admitEntry(dir, hash, bytes.length, chunks(bytes, 7777));
    expect(result).toEqual({ hash, crc32c, size: bytes.length, created: true });
    expect((await readdir(dir)).sort()).toEqual([hash, `${hash}.check`]);
    expect(new Uint8Array(await readFile(entryPath(dir, hash)))).toEqual(bytes);
    expect(await readFile(checkPath(dir, hash), 'utf8')).toBe(formatCheck({ crc32c, size: bytes.length }));
    expect(await verifyEntry(dir, hash)).toEqual({ ok: true, size: bytes.length });
  });

  it('checks the bytes of an entry it already holds, then drops them instead of rewriting', async () => {
    const { dir, bytes, hash } = await folderWithOneEntry();
    const before = await snapshot(dir);
    const [first] = await listEntries(dir);
    expect(await admitEntry(dir, hash, bytes.length, chunks(bytes))).toMatchObject({ hash, created: false });
    expect(await snapshot(dir)).toEqual(before);
    expect((await listEntries(dir))[0]!.mtimeMs).toBe(first!.mtimeMs);
    expect(await refusal(admitEntry(dir, hash, bytes.length, chunks(flip(bytes, 10))))).toBe('hash-mismatch');
    expect(await snapshot(dir)).toEqual(before);
  });

  it('replaces a damaged copy', async () => {
    const { dir, bytes, hash } = await folderWithOneEntry();
    const before = await snapshot(dir);
    await writeFile(entryPath(dir, hash), bytes.subarray(0, 100));
    expect(await admitEntry(dir, hash, bytes.length, chunks(bytes))).toMatchObject({ created: true });
    expect(await snapshot(dir)).toEqual(before);
  });

  it('refuses wrong, short, long and misnamed bytes, and a dropped source, leaving the folder as it was', async () => {
    const { dir } = await folderWithOneEntry();
    const before = await snapshot(dir);
    const { bytes, hash } = sample();
    const other = sample().hash;
    const cases: Array<[EntryRefusal | 'other', () => Promise<unknown>]> = [
      ['hash-mismatch', () => admitEntry(dir, other, bytes.length, chunks(bytes))],
      ['too-short', () => admitEntry(dir, hash, bytes.length + 1, chunks(bytes))],
      ['too-long', () => admitEntry(dir, hash, bytes.length - 1, chunks(bytes))],
      ['too-long', () => admitEntry(dir, hash, 0, chunks(bytes))],
      ['bad-name', () => admitEntry(dir, hash.toUpperCase(), bytes.length, chunks(bytes))],
      ['bad-name', () => admitEntry(dir, `../${hash.slice(3)}`, bytes.length, chunks(bytes))],
      ['bad-name', () => admitEntry(dir, `${hash}.check`, bytes.length, chunks(bytes))],
      ['bad-size', () => admitEntry(dir, hash, -1, chunks(bytes))],
      ['other', () => admitEntry(dir, hash, bytes.length, dropsAfter(bytes, 100_000))],
    ];
    for (const [expected, attempt] of cases) {
      expect(await refusal(attempt()), expected).toBe(expected);
      expect(await snapshot(dir), expected).toEqual(before);
    }
  });

  it('stops reading a source as soon as it runs past the announced size', async () => {
    const dir = tempDir();
    const { bytes, hash } = sample();
    let pulled = 0;
    async function* counted(): AsyncGenerator<Uint8Array> {
      for await (const chunk of chunks(bytes, 1000)) {
        pulled++;
        yield chunk;
      }
    }
    expect(await refusal(admitEntry(dir, hash, 2500, counted()))).toBe('too-long');
    expect(pulled).toBe(3);
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('verifyEntry', () => {
  it('detects truncation, flipped bytes, a missing entry and a damaged sidecar', async () => {
    const { dir, bytes, hash } = await folderWithOneEntry();
    expect(await verifyEntry(dir, sample(10).hash)).toEqual({ ok: false, reason: 'missing' });

    await truncate(entryPath(dir, hash), bytes.length - 1);
    expect(await verifyEntry(dir, hash)).toEqual({ ok: false, reason: 'size' });

    await writeFile(entryPath(dir, hash), flip(bytes, bytes.length - 1));
    expect(await verifyEntry(dir, hash)).toEqual({ ok: false, reason: 'checksum' });

    await writeFile(entryPath(dir, hash), bytes);
    expect(await verifyEntry(dir, hash)).toEqual({ ok: true, size: bytes.length });
    await writeFile(checkPath(dir, hash), 'crc32c=zz size=1\n');
    expect(await verifyEntry(dir, hash)).toEqual({ ok: false, reason: 'sidecar' });
  });

  it('checks an entry without a sidecar against its name, and writes the sidecar when it matches', async () => {
    const dir = tempDir();
    const good = sample();
    const bad = sample();
    await writeFile(entryPath(dir, good.hash), good.bytes);
    await writeFile(entryPath(dir, bad.hash), flip(bad.bytes, 0));

    expect(await verifyEntry(dir, good.hash)).toEqual({ ok: true, size: good.bytes.length });
    expect(await readFile(checkPath(dir, good.hash), 'utf8')).toBe(formatCheck({ crc32c: new Crc32c().update(good.bytes).digest(), size: good.bytes.length }));
    expect(await verifyEntry(dir, bad.hash)).toEqual({ ok: false, reason: 'hash' });
    expect((await readdir(dir)).sort()).toEqual([good.hash, `${good.hash}.check`, bad.hash].sort());
  });
});

describe('removeEntry, sweepLeftovers, listEntries', () => {
  it('removes an entry and its sidecar, and says whether it was there', async () => {
    const { dir, hash } = await folderWithOneEntry();
    expect(await removeEntry(dir, hash)).toBe(true);
    expect(await readdir(dir)).toEqual([]);
    expect(await removeEntry(dir, hash)).toBe(false);
    await expect(removeEntry(dir, '../etc/passwd')).rejects.toBeInstanceOf(EntryRefusedError);
  });

  it('sweeps only temporary files and sidecars without data', async () => {
    const { dir, hash } = await folderWithOneEntry();
    const legacy = sample(1000);
    const orphan = sample(10).hash;
    await writeFile(entryPath(dir, legacy.hash), legacy.bytes);
    await writeFile(path.join(dir, 'notes.txt'), 'not ours');
    const leftovers = [`${hash}.tmp-12345`, `${orphan}.tmp-node-7-abcdef.check`, `${orphan}.check`, `${legacy.hash}.tmp-x`];
    for (const name of leftovers) await writeFile(path.join(dir, name), 'partial');

    expect(await sweepLeftovers(dir)).toEqual([...leftovers].sort());
    expect((await readdir(dir)).sort()).toEqual([hash, `${hash}.check`, legacy.hash, 'notes.txt'].sort());
    expect(await sweepLeftovers(dir)).toEqual([]);
    expect(await sweepLeftovers(path.join(dir, 'absent'))).toEqual([]);
  });

  it('lists complete entries with their size and time, and nothing else', async () => {
    const { dir, bytes, hash } = await folderWithOneEntry();
    const legacy = sample(1000);
    await writeFile(entryPath(dir, legacy.hash), legacy.bytes);
    await writeFile(path.join(dir, `${sample(10).hash}.tmp-1`), 'partial');
    await writeFile(path.join(dir, `${sample(10).hash}.check`), formatCheck({ crc32c: 0, size: 10 }));

    const listed = await listEntries(dir);
    expect(listed.map(({ hash: name, size }) => ({ hash: name, size }))).toEqual(
      [{ hash, size: bytes.length }, { hash: legacy.hash, size: 1000 }].sort((a, b) => a.hash.localeCompare(b.hash)),
    );
    for (const entry of listed) expect(entry.mtimeMs).toBeGreaterThan(0);
    expect(await listEntries(path.join(dir, 'absent'))).toEqual([]);
  });
});
