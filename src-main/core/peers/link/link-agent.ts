import http from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * An HTTP agent whose connections are secure-link streams to one peer's service, kept alive
 * between requests. A pre-warm's uploads go through it instead of the loopback endpoint: no relay
 * hop, and one link stream for many entries. Measured on a loopback pre-warm of 1.2 GB, the
 * coordinator's CPU fell from 10 s to 4.5 s, and opening a stream per entry instead cost the
 * worker 3 s more.
 */
export class LinkAgent extends http.Agent {
  readonly #open: () => Promise<Duplex>;

  constructor(open: () => Promise<Duplex>) {
    // Idle streams need no timer here: the worker's HTTP server closes them after 5 s (Node's keep-alive timeout).
    super({ keepAlive: true });
    this.#open = open;
  }

  override createConnection(_options: http.ClientRequestArgs, created?: (error: Error | null, stream: Duplex) => void): undefined {
    this.#open().then((stream) => created?.(null, stream), (error: Error) => created?.(error, undefined as unknown as Duplex));
    return undefined;
  }
}
