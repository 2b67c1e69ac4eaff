import { constants, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { HearthError } from '../../base/errors.js';
import { BEAT_SERVICE, beatOn, type BeatTiming } from './link-beat.js';
import { joinSockets } from './join-sockets.js';
import { ServiceHolders } from './service-holders.js';
import { classifyHandshakeError, LINK_TLS, parseHeader, readLine, type HandshakeFailureKind } from './link-protocol.js';

/** A local TCP service the link forwards streams to (the worker's RPC server, its control API). */
export interface ServiceAddress {
  host: string;
  port: number;
  /** It serves one client at a time (ggml-rpc-server): a second stream is refused, saying who holds it. */
  oneAtATime?: boolean;
}

/** An in-process service: takes over an authenticated stream after `OK` was sent. */
export type LinkHandler = (socket: tls.TLSSocket, identity: string) => void;

/** Bounds that keep a hostile client from holding the server's resources. */
export interface LinkServerLimits {
  /** From TCP accept to a finished TLS handshake (absolute, not idle time). */
  handshakeTimeoutMs: number;
  /** From the handshake to a full header line. */
  headerTimeoutMs: number;
  /** Connections still in their handshake; above it new sockets are destroyed at once. */
  maxHandshakes: number;
  /** Connections in handshake from one address: one host cannot take every slot. */
  maxHandshakesPerAddress: number;
  /** Authenticated connections (reading their header or carrying a stream); above it new sockets are destroyed at once. */
  maxStreams: number;
}

/** What the link serves, to whom, and within which limits. */
export interface LinkServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** The pre-shared key for a PSK identity (`member:<id>`, `pair:<...>`), or null to refuse it. */
  pskFor(identity: string): Buffer | null;
  /** Whether an authenticated identity may open `service` (all may when left out). */
  allow?(identity: string, service: string): boolean;
  /** Services forwarded to local TCP ports; the control API may instead be a handler (served in-process). */
  services: { rpc: ServiceAddress; control?: ServiceAddress };
  handlers?: Record<string, LinkHandler>;
  limits?: Partial<LinkServerLimits>;
  /** A member's name for messages (`member:<deviceId>` in), or null when unknown. */
  nameOf?(identity: string): string | null;
  /** Heartbeat timing (tests shorten it). */
  beat?: BeatTiming;
}

/** Counters since start; `active` and `handshaking` are current. */
export interface LinkServerStats {
  /** Connections that completed the handshake. */
  accepted: number;
  handshakeFailures: number;
  /** Sockets destroyed over a limit, and authenticated streams refused (bad header, unknown service, not allowed, timeout). */
  rejected: number;
  active: number;
  handshaking: number;
}

/** A peer that failed the handshake: where from, why, and the identity it claimed if it got that far. */
export interface HandshakeFailure {
  address: string;
  reason: string;
  kind: HandshakeFailureKind;
  identity: string | null;
}

const DEFAULT_LIMITS: LinkServerLimits = { handshakeTimeoutMs: 5_000, headerTimeoutMs: 5_000, maxHandshakes: 64, maxHandshakesPerAddress: 16, maxStreams: 512 };
const REFUSE_GRACE_MS = 1_000;

const REASONS: Record<HandshakeFailureKind, string> = {
  'wrong-key': 'wrong key: the peer is not in this cluster, or its cluster key differs',
  'unknown-identity': 'unknown identity',
  'not-tls': 'not a secure-link handshake',
  timeout: 'handshake timeout',
  closed: 'closed during the handshake',
  other: 'handshake failed',
};

/** One accepted TCP connection, tracked from accept to close (the raw socket's events are the reliable ones). */
interface Connection {
  raw: net.Socket;
  address: string;
  /** The peer's IP address, kept: a destroyed socket forgets it. */
  from: string;
  phase: 'handshake' | 'stream';
  tls: tls.TLSSocket | null;
  identity: string | null;
  /** Whether pskFor knew the identity (unknown ones get a random key, so they fail like a wrong key). */
  known: boolean;
  failure: HandshakeFailureKind | null;
  detail: string | null;
  /** The header deadline, once authenticated. */
  timer: NodeJS.Timeout | null;
}

/** A member whose heartbeat went silent: its streams here were closed. */
export interface SilentPeer {
  address: string;
  /** Its name when known, else null. */
  name: string | null;
  /** Streams of it closed (its RPC stream among them frees the worker for another coordinator). */
  streams: number;
  /** Its heartbeat went quiet, or its end reset the heartbeat's stream. */
  why: 'silent' | 'reset';
}

/** The link's listening end; emits `handshake-failed` (HandshakeFailure) and `peer-silent` (SilentPeer). */
export interface LinkServer {
  readonly port: number;
  stats(): LinkServerStats;
  close(): Promise<void>;
  on(event: 'handshake-failed', listener: (failure: HandshakeFailure) => void): this;
  on(event: 'peer-silent', listener: (peer: SilentPeer) => void): this;
  off(event: 'handshake-failed', listener: (failure: HandshakeFailure) => void): this;
  off(event: 'peer-silent', listener: (peer: SilentPeer) => void): this;
}

/** Start the secure link in front of this machine's worker (RPC and control) and in-process services. */
export async function startLinkServer(options: LinkServerOptions): Promise<LinkServer> {
  const server = new SecureLinkServer(options);
  await server.listen(options.host, options.port);
  return server;
}

// Keyed by the TCP 4-tuple: the TLS socket and its raw socket share it, and it is unique while both live.
function tupleOf(socket: net.Socket): string {
  return `${socket.remoteAddress}|${socket.remotePort}|${socket.localAddress}|${socket.localPort}`;
}

class SecureLinkServer extends EventEmitter implements LinkServer {
  readonly #options: LinkServerOptions;
  readonly #limits: LinkServerLimits;
  readonly #tcp: net.Server;
  readonly #tls: tls.Server;
  readonly #connections = new Map<string, Connection>();
  #counts = { accepted: 0, handshakeFailures: 0, rejected: 0, active: 0, handshaking: 0 };
  readonly #handshakingFrom = new Map<string, number>();
  /** The connection holding each one-at-a-time service (the worker's one RPC client). */
  readonly #holders = new ServiceHolders<Connection>();
  #port = 0;

  constructor(options: LinkServerOptions) {
    super();
    this.#options = options;
    this.#limits = { ...DEFAULT_LIMITS, ...options.limits };
    // Accept on a plain TCP server and hand sockets to the TLS server, so limits apply before any TLS work.
    this.#tcp = net.createServer({ noDelay: true, keepAlive: true, keepAliveInitialDelay: 30_000 }, (raw) => this.#onAccept(raw));
    this.#tls = tls.createServer({
      ...LINK_TLS,
      // No session tickets: a resumed session skips the PSK callback, and with it the identity.
      secureOptions: constants.SSL_OP_NO_TICKET,
      // An absolute deadline from accept (tlsClientError ERR_TLS_HANDSHAKE_TIMEOUT), not an idle timer.
      handshakeTimeout: this.#limits.handshakeTimeoutMs,
      pskCallback: (socket, identity) => this.#psk(socket, identity),
    });
    this.#tls.on('secureConnection', (socket) => this.#onSecure(socket));
    this.#tls.on('tlsClientError', (error, socket) => this.#onTlsError(error, socket));
  }

  get port(): number {
    return this.#port;
  }

  listen(host: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException): void => {
        const where = `${host}:${port}`;
        reject(error.code === 'EADDRINUSE'
          ? new HearthError('link-port-busy', `The secure link cannot listen on ${where}: another program uses that port. Choose another with --link-port.`, { cause: error })
          : new HearthError('link-listen-failed', `The secure link cannot listen on ${where}: ${error.message}`, { cause: error }));
      };
      this.#tcp.once('error', onError);
      this.#tcp.listen(port, host, () => {
        this.#tcp.off('error', onError);
        // Accept errors (too many open files) must not crash the process: the next accept may succeed.
        this.#tcp.on('error', () => undefined);
        this.#port = (this.#tcp.address() as net.AddressInfo).port;
        resolve();
      });
    });
  }

  stats(): LinkServerStats {
    return { ...this.#counts };
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#tcp.close(() => resolve()));
    for (const connection of this.#connections.values()) (connection.tls ?? connection.raw).destroy();
    await closed;
  }

  #onAccept(raw: net.Socket): void {
    raw.on('error', () => raw.destroy());
    const { handshaking, active } = this.#counts;
    const from = raw.remoteAddress;
    if (
      handshaking >= this.#limits.maxHandshakes ||
      active >= this.#limits.maxStreams ||
      from === undefined ||
      (this.#handshakingFrom.get(from) ?? 0) >= this.#limits.maxHandshakesPerAddress
    ) {
      this.#counts.rejected++;
      raw.destroy();
      return;
    }
    this.#handshakingFrom.set(from, (this.#handshakingFrom.get(from) ?? 0) + 1);
    const key = tupleOf(raw);
    const connection: Connection = {
      raw,
      address: `${raw.remoteAddress}:${raw.remotePort}`,
      from,
      phase: 'handshake',
      tls: null,
      identity: null,
      known: false,
      failure: null,
      detail: null,
      timer: null,
    };
    this.#connections.set(key, connection);
    this.#counts.handshaking++;
    raw.once('close', () => this.#onClose(key, connection));
    this.#tls.emit('connection', raw);
  }

  #psk(socket: tls.TLSSocket, identity: string): Buffer {
    const connection = this.#connections.get(tupleOf(socket));
    let psk: Buffer | null;
    try {
      psk = connection && identity.length <= 128 ? this.#options.pskFor(identity) : null;
    } catch {
      psk = null;
    }
    if (connection) Object.assign(connection, { tls: socket, identity, known: psk !== null });
    // A random key for an unknown identity fails the handshake exactly like a wrong key, so
    // outsiders cannot tell which identities exist.
    return psk ?? randomBytes(32);
  }

  #onTlsError(error: Error, socket: tls.TLSSocket): void {
    // Node may have destroyed the socket already; its address is still known unless the peer
    // reset first, and then its close was already accounted for.
    const connection = this.#connections.get(tupleOf(socket));
    if (connection?.phase === 'handshake') {
      connection.failure ??= classifyHandshakeError(error);
      connection.detail ??= (error as NodeJS.ErrnoException).code ?? error.message;
    }
    // With a tlsClientError listener, Node leaves closing the socket to us (a timed-out one stays open).
    socket.destroy();
  }

  #onClose(key: string, connection: Connection): void {
    if (connection.timer) clearTimeout(connection.timer);
    this.#connections.delete(key);
    this.#holders.release(connection);
    if (connection.phase === 'stream') {
      this.#counts.active--;
      return;
    }
    this.#handshakeEnded(connection);
    let kind = connection.failure ?? 'closed';
    if (kind === 'wrong-key' && !connection.known) kind = 'unknown-identity';
    // A connection that closes before saying who it is is a port probe (liveness checks do this): not worth an alarm.
    if (kind === 'closed' && connection.identity === null) return;
    this.#counts.handshakeFailures++;
    const reason = kind === 'other' && connection.detail ? `${REASONS.other} (${connection.detail})` : REASONS[kind];
    const failure: HandshakeFailure = { address: connection.address, reason, kind, identity: connection.identity };
    this.emit('handshake-failed', failure);
  }

  #handshakeEnded(connection: Connection): void {
    this.#counts.handshaking--;
    const from = connection.from;
    const left = (this.#handshakingFrom.get(from) ?? 1) - 1;
    if (left > 0) this.#handshakingFrom.set(from, left);
    else this.#handshakingFrom.delete(from);
  }

  #onSecure(socket: tls.TLSSocket): void {
    const connection = this.#connections.get(tupleOf(socket));
    if (!connection || connection.identity === null || !connection.known) {
      socket.destroy();
      return;
    }
    connection.phase = 'stream';
    connection.tls = socket;
    this.#handshakeEnded(connection);
    this.#counts.active++;
    this.#counts.accepted++;
    socket.on('error', () => socket.destroy());
    const identity = connection.identity;
    const timer = setTimeout(() => this.#refuse(socket, 'no header'), this.#limits.headerTimeoutMs);
    connection.timer = timer;
    readLine(socket).then(
      (line) => {
        clearTimeout(timer);
        // Too late: the header deadline already refused this stream.
        if (socket.writableEnded) return;
        try {
          this.#route(socket, connection, identity, line);
        } catch {
          // An owner's callback (allow, a handler) threw: drop this stream, keep serving.
          socket.destroy();
        }
      },
      () => {
        clearTimeout(timer);
        this.#refuse(socket, 'bad header');
      },
    );
  }

  #route(socket: tls.TLSSocket, connection: Connection, identity: string, line: string): void {
    const service = parseHeader(line);
    if (service === null) return this.#refuse(socket, 'bad header');
    const { services, handlers, allow } = this.#options;
    const target = service === 'rpc' || service === 'control' ? services[service] : undefined;
    const handler = handlers && Object.hasOwn(handlers, service) ? handlers[service] : undefined;
    if (!target && !handler && service !== BEAT_SERVICE) return this.#refuse(socket, 'unknown service');
    if (allow && !allow(identity, service)) return this.#refuse(socket, 'not allowed');
    if (service === BEAT_SERVICE) return this.#beat(socket, connection);
    if (target?.oneAtATime) return void this.#forwardOne(socket, connection, service, target);
    if (target) return this.#forward(socket, target);
    socket.write('OK\n');
    handler?.(socket, identity);
  }

  /** Heartbeats both ways; a peer gone silent loses every stream it holds here (above all the worker's RPC client slot). */
  #beat(socket: tls.TLSSocket, connection: Connection): void {
    socket.write('OK\n');
    beatOn(socket, (why) => {
      let streams = 0;
      for (const other of this.#connections.values()) {
        if (other.phase !== 'stream' || other.identity !== connection.identity || other.from !== connection.from || other === connection) continue;
        (other.tls ?? other.raw).destroy();
        streams++;
      }
      const name = connection.identity ? this.#options.nameOf?.(connection.identity) ?? null : null;
      this.emit('peer-silent', { address: connection.from, name, streams, why } satisfies SilentPeer);
    }, this.#options.beat);
  }

  /** A one-at-a-time service (the worker's one RPC client): a second stream is told at once who holds it, instead of waiting unseen. */
  async #forwardOne(socket: tls.TLSSocket, connection: Connection, service: string, target: ServiceAddress): Promise<void> {
    const busy = await this.#holders.claim(service, connection);
    if (socket.destroyed) return this.#holders.release(connection);
    if (busy) return this.#refuse(socket, `busy: its worker serves ${this.#describe(busy.holder)}, since ${busy.since.toLocaleTimeString()}; it takes one coordinator at a time`);
    this.#forward(socket, target);
  }

  #describe(connection: Connection): string {
    const name = connection.identity ? this.#options.nameOf?.(connection.identity) : null;
    return name ? `${name} (${connection.from})` : `the coordinator at ${connection.from}`;
  }

  #forward(socket: tls.TLSSocket, target: ServiceAddress): void {
    const upstream = net.connect({ host: target.host, port: target.port, noDelay: true });
    const abandon = (): void => void upstream.destroy();
    socket.once('close', abandon);
    upstream.once('error', () => this.#refuse(socket, 'service unavailable'));
    upstream.once('connect', () => {
      socket.off('close', abandon);
      upstream.removeAllListeners('error');
      socket.write('OK\n');
      joinSockets(socket, upstream);
    });
  }

  #refuse(socket: tls.TLSSocket, reason: string): void {
    if (socket.destroyed || socket.writableEnded) return;
    this.#counts.rejected++;
    socket.end(`ERR ${reason}\n`);
    // A peer that never closes its side must not keep the socket.
    const timer = setTimeout(() => socket.destroy(), REFUSE_GRACE_MS);
    socket.once('close', () => clearTimeout(timer));
  }
}
