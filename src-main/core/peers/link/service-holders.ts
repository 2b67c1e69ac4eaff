// Who holds each service the link gives to one stream at a time. ggml-rpc-server serves one
// client at a time (ggml-rpc.cpp, ggml_backend_rpc_start_server: accept, serve until it leaves,
// accept again): forwarded anyway, a second coordinator's connection would wait in its listen
// backlog, unseen, for as long as the first stays.
import type { Socket } from 'node:net';

/**
 * How long a second stream waits for a holder that is closing (a reload's old connection) before
 * it is refused: a stream's close crosses the link in a few milliseconds.
 */
export const BUSY_GRACE_MS = 1_500;

/** A stream that holds a service: its raw socket tells when it ends. */
export interface Holder {
  raw: Socket;
}

/** The holder of each one-at-a-time service, and since when. */
export class ServiceHolders<T extends Holder> {
  readonly #held = new Map<string, { holder: T; since: Date }>();
  readonly #graceMs: number;

  constructor(graceMs = BUSY_GRACE_MS) {
    this.#graceMs = graceMs;
  }

  /** Give `service` to `claimer` once any other holder has gone (within the grace); else the one still holding it. */
  async claim(service: string, claimer: T): Promise<{ holder: T; since: Date } | null> {
    const current = this.#held.get(service);
    if (current && current.holder !== claimer) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.#graceMs);
        current.holder.raw.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      const still = this.#held.get(service);
      if (still) return still;
    }
    this.#held.set(service, { holder: claimer, since: new Date() });
    return null;
  }

  /** Let go of whatever `connection` holds (it closed). */
  release(connection: T): void {
    for (const [service, { holder }] of this.#held) if (holder === connection) this.#held.delete(service);
  }
}
