// The open model as the UI shows it: a first snapshot, then every pushed update, and the
// requests that change it (open, re-plan, warm up, load), each one's failure kept for the user.
import type { HearthApi, ModelFile, ModelSession, PlanChoices, UploadProgress } from '../../../src-main/core/api/contract.js';
import { AUTO_CHOICES } from '../../../src-main/shared/plan-choices.js';

/** Requests that can be in flight, for disabling their buttons. */
export type SessionAction = 'connect' | 'open' | 'files' | 'plan' | 'warmup' | 'cancelWarmup' | 'load' | 'unload' | 'close';

/** Choices that mean "auto": Hearth's context length, shares by free memory, nothing left out. */

// What failed, in words that start the error line.
const failures: Record<SessionAction, string> = {
  connect: 'Cannot reach Hearth (reload the page to try again)',
  open: 'Could not open the model',
  files: 'Could not list the model folders',
  plan: 'Could not plan the split',
  warmup: 'Could not start the warm-up',
  cancelWarmup: 'Could not cancel the warm-up',
  load: 'Could not load the model',
  unload: 'Could not unload the model',
  close: 'Could not close the model',
};

/** Live model session; `start` it once, and call what it returns to stop. */
export class SessionState {
  session = $state<ModelSession | null>(null);
  /** What the last request that failed said, with what to do; cleared by the next request. */
  error = $state<string | null>(null);
  /** Set while a dropped file is sent to the server (browser only). */
  upload = $state<UploadProgress | null>(null);
  /** Which requests are in flight. */
  busy = $state<Record<SessionAction, boolean>>({ connect: false, open: false, files: false, plan: false, warmup: false, cancelWarmup: false, load: false, unload: false, close: false });
  /** GGUF files in the server's model folders, once listed. */
  files = $state<ModelFile[] | null>(null);

  // Bumped by every pushed session: a reply to a request sent before a push is older than it.
  #pushes = 0;
  #uploadAbort: AbortController | null = null;

  constructor(private readonly api: HearthApi) {}

  start(): () => void {
    const off = this.api.on('session', (session) => {
      this.#pushes += 1;
      this.session = session;
    });
    void this.#request('connect', () => this.api.getSession());
    return off;
  }

  /** Open a file the user dropped or picked (uploaded, with progress, from a browser). */
  async openFile(file: File): Promise<void> {
    if (!file.name.toLowerCase().endsWith('.gguf')) {
      this.error = `${file.name} is not a GGUF model: choose a file that ends in .gguf.`;
      return;
    }
    this.#uploadAbort?.abort();
    const abort = new AbortController();
    this.#uploadAbort = abort;
    const onProgress = (progress: UploadProgress) => {
      if (this.#uploadAbort === abort) this.upload = progress;
    };
    try {
      // A cancelled upload is what the user asked for, not an error.
      await this.#request('open', () => this.api.openDroppedFile(file, onProgress, abort.signal), { ignoreError: () => abort.signal.aborted });
    } finally {
      if (this.#uploadAbort === abort) {
        this.#uploadAbort = null;
        this.upload = null;
      }
    }
  }

  /** Stop sending the dropped file; what arrived is dropped by the server. */
  cancelUpload(): void {
    this.#uploadAbort?.abort();
    this.#uploadAbort = null;
    this.upload = null;
  }

  /** Open a model file on the server's machine, e.g. one of `files`. */
  openPath(path: string): Promise<void> {
    return this.#request('open', () => this.api.openModel({ path }));
  }

  /** List the GGUF files in the server's model folders into `files`. */
  async listFiles(): Promise<void> {
    this.busy.files = true;
    try {
      this.files = await this.api.listModelFiles();
    } catch (error) {
      this.error = `${failures.files}: ${messageOf(error)}`;
    } finally {
      this.busy.files = false;
    }
  }

  /** Re-plan the split with these choices. */
  choose(choices: PlanChoices): Promise<void> {
    // A plain copy: a reactive proxy cannot cross Electron IPC.
    const plain = $state.snapshot(choices) as PlanChoices;
    return this.#request('plan', () => this.api.setPlanChoices(plain));
  }

  /** Back to the automatic split: default context, shares by free memory, nothing left out. */
  resetAuto(): Promise<void> {
    return this.choose(AUTO_CHOICES);
  }

  /** Pre-warm every peer's cache for the plan; progress arrives as pushed sessions. */
  startWarmup(options: { maxBytesPerSecond?: number } = {}): Promise<void> {
    return this.#request('warmup', () => this.api.startWarmup(options));
  }

  cancelWarmup(): Promise<void> {
    return this.#request('cancelWarmup', () => this.api.cancelWarmup());
  }

  /** Load the plan across the cluster and serve it. */
  load(): Promise<void> {
    return this.#request('load', () => this.api.loadModel());
  }

  /** Stop a load in progress, or unload the served model. */
  unload(): Promise<void> {
    return this.#request('unload', () => this.api.unloadModel());
  }

  /** A lost peer is back: plan over every member again and load so. */
  moveBack(): Promise<void> {
    return this.#request('load', () => this.api.moveModelBack());
  }

  close(): Promise<void> {
    return this.#request('close', () => this.api.closeModel());
  }

  dismissError(): void {
    this.error = null;
  }

  async #request(action: SessionAction, call: () => Promise<ModelSession>, options: { ignoreError?: () => boolean } = {}): Promise<void> {
    const pushesBefore = this.#pushes;
    this.busy[action] = true;
    this.error = null;
    try {
      const session = await call();
      if (this.#pushes === pushesBefore) this.session = session;
    } catch (error) {
      if (!options.ignoreError?.()) this.error = `${failures[action]}: ${messageOf(error)}`;
    } finally {
      this.busy[action] = false;
    }
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
