// A heartbeat beside a peer's link streams. The streams carry a service's raw bytes (llama.cpp's
// RPC has no ping and ggml-rpc.cpp's sockets no timeout), and TCP never notices a peer that
// vanished without a FIN (cable unplugged, machine frozen): it retransmits for about 15 minutes,
// and an idle connection waits forever. So each end of a link sends a byte every BEAT_INTERVAL_MS
// on a stream of its own and gives up on the peer after BEAT_TIMEOUT_MS of silence.
import type { Duplex } from 'node:stream';
import { HearthError } from '../../base/errors.js';

/** The link service that answers heartbeats. */
export const BEAT_SERVICE = 'beat';
/** How often each end sends a beat. */
export const BEAT_INTERVAL_MS = 1_000;
/**
 * Silence after which the peer counts as gone: four beats missed. Long enough for a LAN cable
 * saturated by a tensor transfer (the beat queues behind it: tens of milliseconds on a switch) and
 * a busy event loop; short enough that a served model notices a lost peer within 5 s and heals,
 * and a load or a chat fails in seconds rather than waiting on TCP.
 */
export const BEAT_TIMEOUT_MS = 4_000;

const BEAT = Buffer.from('\n');

/** Timing, for tests that must not wait real seconds. */
export interface BeatTiming {
  intervalMs: number;
  timeoutMs: number;
}

const DEFAULT_TIMING: BeatTiming = { intervalMs: BEAT_INTERVAL_MS, timeoutMs: BEAT_TIMEOUT_MS };

/**
 * Beat on `socket` and watch for the peer's beats: `onGone` once the peer has been silent for the
 * timeout, or its end of the stream was reset (it died, or dropped the connection while the cable
 * was out); the socket is then destroyed. Never when the peer ends the stream cleanly. Returns a
 * stop function that ends the stream cleanly.
 */
export function beatOn(socket: Duplex, onGone: (why: 'silent' | 'reset') => void, timing: BeatTiming = DEFAULT_TIMING): () => void {
  let heardAt = Date.now();
  let done = false;
  const finish = (): void => {
    done = true;
    clearInterval(timer);
  };
  const gone = (why: 'silent' | 'reset'): void => {
    if (done) return;
    finish();
    socket.destroy();
    onGone(why);
  };
  const timer = setInterval(() => {
    if (Date.now() - heardAt > timing.timeoutMs) return gone('silent');
    // A peer that stops reading must not make this end buffer without bound.
    if (socket.writableLength < 64) socket.write(BEAT);
  }, Math.min(timing.intervalMs, timing.timeoutMs / 2));
  timer.unref();
  socket.on('data', () => (heardAt = Date.now()));
  socket.on('error', () => gone('reset'));
  socket.once('close', finish);
  socket.write(BEAT);
  return () => {
    if (done) return;
    finish();
    socket.end();
  };
}

/** Why a peer counts as gone, or why liveness is off for it. */
export type BeatOutcome = { kind: 'silent' } | { kind: 'reset' } | { kind: 'unreachable'; error: Error };

/**
 * One heartbeat stream to a peer, open while something holds it (a local endpoint's live
 * connections): opened at the first hold, closed a moment after the last release. Tells
 * `onLost` when the peer stops answering or cannot be reached for a beat stream at all; a peer
 * that refuses the service (an older Hearth) simply gets no liveness check.
 */
export class BeatKeeper {
  readonly #open: () => Promise<Duplex>;
  readonly #onLost: (outcome: BeatOutcome) => void;
  readonly #timing: BeatTiming;
  #holds = 0;
  #stop: (() => void) | null = null;
  #opening = false;
  #linger: NodeJS.Timeout | null = null;
  #unsupported = false;

  constructor(open: () => Promise<Duplex>, onLost: (outcome: BeatOutcome) => void, timing: BeatTiming = DEFAULT_TIMING) {
    this.#open = open;
    this.#onLost = onLost;
    this.#timing = timing;
  }

  /** Keep the beat going until the returned function is called. */
  hold(): () => void {
    this.#holds++;
    if (this.#linger) clearTimeout(this.#linger);
    this.#linger = null;
    this.#start();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.#holds > 0) return;
      // Clients that reconnect at once (HTTP keep-alive, a reload) keep the same beat stream.
      this.#linger = setTimeout(() => this.close(), this.#timing.intervalMs);
      this.#linger.unref();
    };
  }

  /** End the beat stream now. */
  close(): void {
    if (this.#linger) clearTimeout(this.#linger);
    this.#linger = null;
    this.#stop?.();
    this.#stop = null;
  }

  #start(): void {
    if (this.#stop || this.#opening || this.#unsupported) return;
    this.#opening = true;
    this.#open().then(
      (socket) => {
        this.#opening = false;
        if (this.#holds === 0) return void socket.destroy();
        const stop = beatOn(socket, (why) => {
          this.#stop = null;
          this.#onLost({ kind: why });
        }, this.#timing);
        this.#stop = stop;
        // The peer ended it (it restarts, say): a later hold opens a new one.
        socket.once('close', () => {
          if (this.#stop === stop) this.#stop = null;
        });
      },
      (error: Error & { code?: string }) => {
        this.#opening = false;
        // Only a peer that cannot be reached is lost; one that refuses the beat (an older Hearth) or
        // the key (its streams fail on their own) just gets no liveness check.
        if (error.code !== 'link-unreachable' && error.code !== 'link-timeout') return void (this.#unsupported = true);
        if (this.#holds > 0) this.#onLost({ kind: 'unreachable', error });
      },
    );
  }
}

/** A peer that stopped answering its heartbeat, or could not be reached for one, as a user reads it. */
export function lostError(where: string, outcome: BeatOutcome, timeoutMs = BEAT_TIMEOUT_MS): HearthError {
  if (outcome.kind === 'unreachable') return new HearthError('peer-lost', `${where} could not be reached for a heartbeat (${outcome.error.message}): its streams were closed.`, { cause: outcome.error });
  if (outcome.kind === 'reset') return new HearthError('peer-lost', `${where} reset the link (its Hearth stopped or restarted, or dropped this machine), so its streams were closed.`);
  return new HearthError('peer-lost', `${where} stopped answering: no heartbeat for ${timeoutMs / 1000} s (the machine is off or frozen, its cable unplugged, or the network drops the traffic), so its streams were closed.`);
}
