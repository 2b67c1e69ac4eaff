// How each live view of the core starts: ask for a first snapshot, and take every pushed update.
import type { HearthApi, HearthEvents } from '../../../src-main/core/api/contract.js';

/**
 * Apply `snapshot`'s answer, then every `event` pushed; a push wins over a reply that was still in
 * flight when it came (the push is newer). `fail` hears why the snapshot failed, unless a push
 * came first. Returns the unsubscribe function.
 */
export function follow<E extends keyof HearthEvents>(
  api: HearthApi,
  event: E,
  snapshot: () => Promise<HearthEvents[E]>,
  apply: (value: HearthEvents[E]) => void,
  fail: (message: string) => void,
): () => void {
  let pushed = false;
  const off = api.on(event, (value) => {
    pushed = true;
    apply(value);
  });
  snapshot().then(
    (value) => {
      if (!pushed) apply(value);
    },
    (error: unknown) => {
      if (!pushed) fail(error instanceof Error ? error.message : String(error));
    },
  );
  return off;
}
