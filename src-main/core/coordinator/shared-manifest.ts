// Models' hash manifests, each made once and shared: coverage, a pre-warm, a load and keep-warm all
// need one, and making it hashes every cached tensor on every core. Whoever asks while it is being
// made waits on the same making and hears its progress; a made one is kept (a few models at most)
// while its file is unchanged; `drop` aborts what is still being made.
import { realpath, stat } from 'node:fs/promises';
import { sameFileVersion, type HashManifest } from '../gguf/manifest/hash-manifest.js';
import type { ManifestRequest } from '../gguf/manifest/load-or-make-manifest.js';

type Make = (request: ManifestRequest) => Promise<HashManifest>;

interface Making {
  path: string;
  made: Promise<HashManifest>;
  abort: AbortController;
  listeners: Set<(fraction: number) => void>;
  /** Once made. */
  manifest?: HashManifest;
}

/** Manifests kept made: the open model's and keep-warm's few recent ones. */
const KEEP_MADE = 4;

export class SharedManifest {
  readonly #make: Make;
  readonly #dataDir: string;
  readonly #makings = new Map<string, Making>();

  constructor(make: Make, dataDir: string) {
    this.#make = make;
    this.#dataDir = dataDir;
  }

  /** The manifest of `modelPath`; `onHashing` hears 0..1 while it is made; `signal` ends this wait only, not the making others share. */
  async of(modelPath: string, onHashing?: (fraction: number) => void, signal?: AbortSignal): Promise<HashManifest> {
    let making = this.#makings.get(modelPath);
    if (making?.manifest && !(await stillDescribes(making.manifest, modelPath))) making = undefined;
    if (!making) {
      const abort = new AbortController();
      const listeners = new Set<(fraction: number) => void>();
      const made = this.#make({
        model: modelPath, dataDir: this.#dataDir, signal: abort.signal,
        onProgress: ({ bytesDone, bytesTotal }) => listeners.forEach((listener) => listener(bytesTotal > 0 ? bytesDone / bytesTotal : 1)),
      });
      const started: Making = { path: modelPath, made, abort, listeners };
      this.#makings.set(modelPath, started);
      made.then((manifest) => {
        started.manifest = manifest;
        this.#forgetOldest();
      }, () => {
        // Whoever waits sees a failure; the next asker tries again instead of getting it once more.
        if (this.#makings.get(modelPath) === started) this.#makings.delete(modelPath);
      });
      making = started;
    }
    if (onHashing) making.listeners.add(onHashing);
    try {
      return await (signal ? Promise.race([making.made, rejectOnAbort(signal)]) : making.made);
    } finally {
      if (onHashing) making.listeners.delete(onHashing);
    }
  }

  #forgetOldest(): void {
    const made = [...this.#makings.values()].filter((making) => making.manifest);
    for (const old of made.slice(0, Math.max(0, made.length - KEEP_MADE))) this.#makings.delete(old.path);
  }

  /** Forget every manifest (a model file may have changed): a making still running is aborted. */
  drop(): void {
    for (const making of this.#makings.values()) making.abort.abort();
    this.#makings.clear();
  }
}

/** Whether the file is still the version the manifest was made from. */
async function stillDescribes(manifest: HashManifest, modelPath: string): Promise<boolean> {
  try {
    const real = await realpath(modelPath);
    const info = await stat(real);
    return sameFileVersion(manifest.file, { path: real, size: info.size, mtimeMs: info.mtimeMs, ino: info.ino });
  } catch {
    return false;
  }
}

function rejectOnAbort(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) return reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}
