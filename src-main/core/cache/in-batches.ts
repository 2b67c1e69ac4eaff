// Sockets deliver an upload in 16-64 KiB chunks, and the secure link's TLS in 16 KiB ones. Each
// file write goes to libuv's thread pool, and waking a pool thread is what costs on a VM: in a
// perf profile of a worker taking a pre-warm, a quarter of its CPU went to those wake-ups (one
// per chunk, 73 000 for 1.2 GB). Writing runs of 1 MiB makes that 64 times rarer. A run waits at
// most `maxWaitMs` for its bytes, so a slow or stalled upload still reaches the disk in step.

/** How many bytes a run holds before it is passed on. */
export const BATCH_BYTES = 1024 * 1024;
/** How long the first chunk of a run may wait for the rest. */
export const BATCH_WAIT_MS = 20;

export interface BatchOptions {
  minBytes?: number;
  maxWaitMs?: number;
  /** Pass a run on at once when the bytes so far exceed this (the caller refuses them: no need to read on). */
  limit?: number;
}

const WAITED = Symbol('waited');

/**
 * The chunks of `source` joined into runs of at least `minBytes`, or of what arrived within
 * `maxWaitMs` of a run's first chunk. When the source fails, what arrived before is passed on
 * first, then the failure is rethrown.
 */
export async function* inBatches(source: AsyncIterable<Uint8Array>, options: BatchOptions = {}): AsyncGenerator<Uint8Array> {
  const { minBytes = BATCH_BYTES, maxWaitMs = BATCH_WAIT_MS, limit = Infinity } = options;
  const iterator = source[Symbol.asyncIterator]();
  let parts: Uint8Array[] = [];
  let length = 0;
  let total = 0;
  let wait: { waited: Promise<typeof WAITED>; cancel(): void } | null = null;
  // A read still pending when a run was passed on belongs to the next run.
  let pending: Promise<IteratorResult<Uint8Array>> | null = null;
  let failure: { error: unknown } | null = null;
  let ended = false;
  const take = (): Uint8Array => {
    const run = parts.length === 1 ? parts[0]! : Buffer.concat(parts, length);
    parts = [];
    length = 0;
    wait?.cancel();
    wait = null;
    return run;
  };
  try {
    for (;;) {
      pending ??= iterator.next();
      const next = wait ? await Promise.race([pending, wait.waited]) : await pending;
      if (next === WAITED) {
        yield take();
        continue;
      }
      pending = null;
      if (next.done) {
        ended = true;
        break;
      }
      parts.push(next.value);
      length += next.value.length;
      total += next.value.length;
      if (length >= minBytes || total > limit) yield take();
      else wait ??= waitFor(maxWaitMs);
    }
  } catch (error) {
    failure = { error };
    ended = true;
  } finally {
    wait?.cancel();
    // The consumer stopped early (it refused the bytes): stop the source too, as `for await` would.
    if (!ended) void iterator.return?.()?.catch(() => undefined);
  }
  if (length > 0) yield take();
  if (failure) throw failure.error;
}

function waitFor(ms: number): { waited: Promise<typeof WAITED>; cancel(): void } {
  let timer: NodeJS.Timeout | undefined;
  const waited = new Promise<typeof WAITED>((resolve) => (timer = setTimeout(() => resolve(WAITED), ms)));
  return { waited, cancel: () => clearTimeout(timer) };
}
