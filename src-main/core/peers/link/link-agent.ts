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
    // An idle stream is closed here after 4 s, before the worker's HTTP server would (Node's keep-alive
    // timeout, 5 s): a request never goes out on a stream the worker is closing.
    super({ keepAlive: true, timeout: 4_000 });
    this.#open = open;
  }

  override createConnection(_options: http.ClientRequestArgs, created?: (error: Error | null, stream: Duplex) => void): undefined {
    this.#open().then((stream) => created?.(null, stream), (error: Error) => created?.(error, undefined as unknown as Duplex));
    return undefined;
  }
}
