import net from 'node:net';
import tls from 'node:tls';
import { HearthError } from '../../base/errors.js';
import { BEAT_SERVICE, BEAT_TIMEOUT_MS, BeatKeeper, lostError, type BeatTiming } from './link-beat.js';
import { joinSockets } from './join-sockets.js';
import { classifyHandshakeError, headerLine, isServiceName, LINK_TLS, LineError, readLine } from './link-protocol.js';

/** Where and as whom to open a stream through a peer's secure link. */
export interface LinkStreamOptions {
  host: string;
  port: number;
  /** PSK identity: `member:<deviceId>` for the cluster key, `pair:<...>` for a pairing code. */
  identity: string;
  psk: Buffer;
  /** `rpc`, `control`, or an in-process service such as `pair`. */
  service: string;
  /** For the whole opening: connect, handshake and the peer's answer (default 10 s). */
  timeoutMs?: number;
}

type Phase = 'connecting' | 'handshake' | 'answer';

/**
 * Open one stream to a peer's service through its secure link. Resolves once the peer answered
 * `OK`; from then on the socket carries the service's bytes and its errors are the caller's.
 */
export function openLinkStream(options: LinkStreamOptions): Promise<tls.TLSSocket> {
  const { host, port, identity, psk, service } = options;
  const where = `${host}:${port}`;
  const timeoutMs = options.timeoutMs ?? 10_000;
  if (!isServiceName(service)) return Promise.reject(new HearthError('link-bad-service', `"${service}" is not a secure-link service name.`));
  if (identity.length === 0 || identity.length > 128) return Promise.reject(new HearthError('link-bad-identity', `A secure-link identity has 1 to 128 characters; "${identity.slice(0, 40)}…" does not.`));

  return new Promise((resolve, reject) => {
    let phase: Phase = 'connecting';
    let settled = false;
    const socket = tls.connect({
      host,
      port,
      ...LINK_TLS,
      // The pre-shared key authenticates the server too: there is no certificate to check.
      checkServerIdentity: () => undefined,
      pskCallback: () => ({ identity, psk }),
    });
    socket.setNoDelay(true);

    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      clearTimeout(timer);
      socket.off('error', onError);
      socket.off('close', onClose);
      return true;
    };
    const fail = (error: HearthError): void => {
      if (!settle()) return;
      socket.destroy();
      reject(error);
    };
    const onError = (error: Error): void => fail(describeFailure(error, phase, where, identity));
    const onClose = (): void => fail(closedError(phase, where));
    const timer = setTimeout(() => fail(new HearthError('link-timeout', `The secure link to ${where} did not ${PHASE_WORDS[phase]} within ${timeoutMs / 1000} s: the machine may be overloaded, or a firewall drops the traffic.`)), timeoutMs);

    socket.on('error', onError);
    socket.once('close', onClose);
    socket.once('connect', () => (phase = 'handshake'));
    socket.once('secureConnect', () => {
      phase = 'answer';
      socket.write(headerLine(service));
      readLine(socket).then(
        (answer) => {
          if (answer === 'OK') {
            if (settle()) resolve(socket);
          } else if (answer.startsWith('ERR ')) {
            fail(new HearthError('link-refused', `${where} refused the "${service}" stream: ${answer.slice(4)}.`));
          } else {
            fail(new HearthError('link-protocol', `${where} answered the secure-link header with something else than OK or ERR: is it a Hearth of a compatible version?`));
          }
        },
        (error: unknown) => fail(error instanceof LineError && error.reason === 'too-long'
          ? new HearthError('link-protocol', `${where} sent an over-long answer to the secure-link header: is it a Hearth of a compatible version?`)
          : closedError('answer', where)),
      );
    });
  });
}

const PHASE_WORDS: Record<Phase, string> = { connecting: 'accept the connection', handshake: 'complete the handshake', answer: 'answer the stream request' };

const UNREACHABLE = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EADDRNOTAVAIL']);

/** A connect or TLS error as a user can act on it. */
function describeFailure(error: Error, phase: Phase, where: string, identity: string): HearthError {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  if (phase === 'connecting' || UNREACHABLE.has(code)) {
    return new HearthError('link-unreachable', `Cannot reach the secure link at ${where} (${code || error.message}): is Hearth running there, is the address right, and does its firewall let the link port through?`, { cause: error });
  }
  switch (classifyHandshakeError(error)) {
    case 'wrong-key':
    case 'unknown-identity':
      return new HearthError('link-wrong-key', identity.startsWith('pair:')
        ? `${where} refused the pairing code: it is mistyped, expired or already used (show a fresh one with \`hearth pair --show\`).`
        : `${where} refused the secure link: its cluster key differs from this machine's (pair the machines again with \`hearth pair\`).`, { cause: error });
    case 'closed':
      return closedError(phase, where);
    case 'not-tls':
      return new HearthError('link-not-hearth', `${where} does not speak Hearth's secure link: check the port (the link port, not the worker's RPC or control port).`, { cause: error });
    default:
      return new HearthError('link-handshake-failed', `The secure-link handshake with ${where} failed (${code || error.message}): are both machines running compatible Hearth versions?`, { cause: error });
  }
}

function closedError(phase: Phase, where: string): HearthError {
  return phase === 'answer'
    ? new HearthError('link-closed', `${where} closed the secure link before answering: it may be shutting down; try again.`)
    : new HearthError('link-closed', `${where} closed the connection during the secure-link handshake: it may be busy (too many connections) or not a Hearth link port; try again.`);
}

/** Where a local endpoint leads: how to open streams to the peer, to which service, and where to listen. */
export interface LocalEndpointOptions {
  /** Opens one link stream to a service of the peer (`openLinkStream` bound to its address and this machine's identity): the endpoint's own, and its heartbeat. */
  open: (service: string) => Promise<net.Socket>;
  /** The service each connection goes to (`rpc`, `control`). */
  service: string;
  /** The peer's name for messages. */
  name: string;
  /** Loopback by default: anything that can reach this port uses the link as this machine. */
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Told of each stream that could not be opened (wrong key, peer gone, busy) or was cut: the local connections are closed. */
  onError?: (error: HearthError) => void;
  /** Heartbeat timing while connections are open (tests shorten it); false: no liveness check. */
  beat?: BeatTiming | false;
}

/** Counters of a local endpoint since it started. */
export interface LocalEndpointStats {
  connections: number;
  active: number;
  failures: number;
  /** Bytes from local clients to the peer. */
  bytesUp: number;
  /** Bytes from the peer to local clients. */
  bytesDown: number;
  /** Why the last stream to the peer was refused or cut, in words naming the peer; null while none was. */
  failure: string | null;
  /** Streams in use that the peer ended or its silence cut: a served load that sees this grow has lost the peer. */
  cut: number;
}

/** A loopback listener whose connections each become a link stream to a peer's service. */
export interface LocalEndpoint {
  /** `127.0.0.1:<port>`: what `llama-server --rpc` points at. */
  endpoint: string;
  port: number;
  stats(): LocalEndpointStats;
  close(): Promise<void>;
}

/** Start a local TCP endpoint that carries each accepted connection to `peer`'s service through the secure link. */
export async function startLocalEndpoint(options: LocalEndpointOptions): Promise<LocalEndpoint> {
  const stats: LocalEndpointStats = { connections: 0, active: 0, failures: 0, bytesUp: 0, bytesDown: 0, failure: null, cut: 0 };
  const where = options.name;
  const open = new Set<net.Socket>();
  const track = (socket: net.Socket): void => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  };
  const fail = (error: HearthError): void => {
    stats.failures++;
    stats.failure = error.message;
    options.onError?.(error);
  };
  const stream = options.open;
  /** The heartbeat gave up on the peer: the streams it closes need no word of their own. */
  let silenced = false;
  const beats = options.beat === false ? null : new BeatKeeper(() => stream(BEAT_SERVICE), (outcome) => {
    // Cut every stream to the peer: llama-server then fails at once, naming the endpoint.
    if (stats.active > 0) stats.cut++;
    silenced = true;
    for (const socket of open) socket.destroy();
    fail(lostError(where, outcome, options.beat ? options.beat.timeoutMs : BEAT_TIMEOUT_MS));
  }, options.beat);
  // Paused until the link stream is open: what the client sends first waits in the kernel.
  const server = net.createServer({ pauseOnConnect: true, noDelay: true }, (local) => {
    stats.connections++;
    stats.active++;
    track(local);
    const release = beats?.hold();
    local.on('error', () => local.destroy());
    local.once('close', () => {
      stats.active--;
      release?.();
    });
    stream(options.service).then(
      (remote) => {
        track(remote);
        if (local.destroyed) return void remote.destroy();
        // The peer ending a stream its client still uses: its worker stopped, restarted or dropped us.
        // The client's own end (it closed, or died) comes first otherwise; listened for before the
        // sockets are joined, whose close handling ends and destroys the other side.
        let clientDone = false;
        local.once('end', () => (clientDone = true));
        local.once('error', () => (clientDone = true));
        remote.once('close', () => {
          // Closed by the heartbeat's verdict (counted, and said, once there) or after the client's own end.
          if (clientDone || silenced) return;
          stats.cut++;
          fail(new HearthError('link-cut', `${where} closed the "${options.service}" stream while it was in use: its worker stopped or restarted, or it dropped this machine.`));
        });
        joinSockets(local, remote);
        local.on('data', (chunk: Buffer) => (stats.bytesUp += chunk.length));
        remote.on('data', (chunk: Buffer) => (stats.bytesDown += chunk.length));
      },
      (error: HearthError) => {
        local.destroy();
        fail(new HearthError(error.code, `${options.name}: ${error.message}`, { cause: error }));
      },
    );
  });
  const host = options.host ?? '127.0.0.1';
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', (error) => reject(new HearthError('endpoint-listen-failed', `Cannot open a local endpoint on ${host}:${options.port ?? 0}: ${error.message}`, { cause: error })));
    server.listen(options.port ?? 0, host, () => resolve((server.address() as net.AddressInfo).port));
  });
  server.on('error', () => undefined);
  return {
    endpoint: `${host}:${port}`,
    port,
    stats: () => ({ ...stats }),
    close: () => new Promise<void>((resolve) => {
      beats?.close();
      server.close(() => resolve());
      for (const socket of open) socket.destroy();
    }),
  };
}
