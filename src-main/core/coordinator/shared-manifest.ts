// The open model's hash manifest, made once and shared: coverage, a pre-warm and a load all need
// it, and making it hashes every cached tensor on every core. Whoever asks while it is being made
// waits on the same making and hears its progress; a new model aborts the old one's.
import type { HashManifest } from '../gguf/manifest/hash-manifest.js';
import type { ManifestRequest } from '../gguf/manifest/load-or-make-manifest.js';

type Make = (request: ManifestRequest) => Promise<HashManifest>;

interface Making {
  path: string;
  made: Promise<HashManifest>;
  abort: AbortController;
  listeners: Set<(fraction: number) => void>;
}

export class SharedManifest {
  readonly #make: Make;
  readonly #dataDir: string;
  #making: Making | null = null;

  constructor(make: Make, dataDir: string) {
    this.#make = make;
    this.#dataDir = dataDir;
  }

  /** The manifest of `modelPath`; `onHashing` hears 0..1 while it is made; `signal` ends this wait only, not the making others share. */
  async of(modelPath: string, onHashing?: (fraction: number) => void, signal?: AbortSignal): Promise<HashManifest> {
    if (this.#making?.path !== modelPath) {
      this.drop();
      const abort = new AbortController();
      const listeners = new Set<(fraction: number) => void>();
      const made = this.#make({
        model: modelPath, dataDir: this.#dataDir, signal: abort.signal,
        onProgress: ({ bytesDone, bytesTotal }) => listeners.forEach((listener) => listener(bytesTotal > 0 ? bytesDone / bytesTotal : 1)),
      });
      this.#making = { path: modelPath, made, abort, listeners };
      // Whoever waits sees a failure; the next asker tries again instead of getting it once more.
      const making = this.#making;
      made.catch(() => {
        if (this.#making === making) this.#making = null;
      });
    }
    const making = this.#making;
    if (onHashing) making.listeners.add(onHashing);
    try {
      return await (signal ? Promise.race([making.made, rejectOnAbort(signal)]) : making.made);
    } finally {
      if (onHashing) making.listeners.delete(onHashing);
    }
  }

  /** Forget the manifest (another model opened, or none): a making still running is aborted. */
  drop(): void {
    this.#making?.abort.abort();
    this.#making = null;
  }
}

function rejectOnAbort(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) return reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}
