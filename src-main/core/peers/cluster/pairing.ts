import { createInterface } from 'node:readline';
import type { TLSSocket } from 'node:tls';
import { HearthError } from '../../base/errors.js';
import { openLinkStream } from '../link/link-client.js';
import { pairingPsk } from '../link/link-keys.js';
import { clusterFingerprint, type ClusterIdentity } from './cluster-identity.js';
import { newPairingCode, normalizePairingCode } from './pairing-code.js';

/** The PSK identity a joiner uses: the key behind it is the one derived from the open pairing code. */
export const PAIRING_IDENTITY = 'pair:v1';
/** The in-process link service that answers a joiner. */
export const PAIRING_SERVICE = 'pair';
/** How long a shown code stays valid. */
export const PAIRING_WINDOW_MS = 10 * 60_000;

/** What a member sends a joiner that proved it knows the code. */
interface Welcome {
  clusterKey: string;
  fingerprint: string;
  memberName: string;
}

/**
 * A member's pairing window: one code at a time, valid for a few minutes and for one join.
 * The code never crosses the network; it keys the TLS handshake that carries the cluster key.
 */
export class PairingWindow {
  readonly #identity: () => ClusterIdentity;
  readonly #clock: () => number;
  #open: { code: string; psk: Buffer; expiresAt: number } | null = null;

  constructor(identity: () => ClusterIdentity, clock: () => number = Date.now) {
    this.#identity = identity;
    this.#clock = clock;
  }

  /** Open the window with a fresh code (replacing any earlier one). */
  async open(ttlMs = PAIRING_WINDOW_MS): Promise<{ code: string; expiresAt: number }> {
    const code = newPairingCode();
    const psk = await pairingPsk(normalizePairingCode(code)!);
    this.#open = { code, psk, expiresAt: this.#clock() + ttlMs };
    return { code, expiresAt: this.#open.expiresAt };
  }

  close(): void {
    this.#open = null;
  }

  /** The code shown now, if the window is open. */
  get current(): { code: string; expiresAt: number } | null {
    if (this.#open && this.#open.expiresAt <= this.#clock()) this.#open = null;
    return this.#open && { code: this.#open.code, expiresAt: this.#open.expiresAt };
  }

  /** The link's key for the pairing identity while the window is open; otherwise none (the handshake fails). */
  pskFor(identity: string): Buffer | null {
    return identity === PAIRING_IDENTITY && this.current ? this.#open!.psk : null;
  }

  /** Answer a joiner on an authenticated pairing stream: send the cluster key, then close the window. */
  handle(socket: TLSSocket): void {
    socket.on('error', () => socket.destroy());
    const lines = createInterface({ input: socket });
    const timer = setTimeout(() => socket.destroy(), 10_000);
    lines.once('line', (line) => {
      clearTimeout(timer);
      let request: { deviceId?: unknown; deviceName?: unknown };
      try {
        request = JSON.parse(line) as typeof request;
      } catch {
        return void socket.destroy();
      }
      if (typeof request.deviceId !== 'string' || typeof request.deviceName !== 'string') return void socket.destroy();
      const identity = this.#identity();
      const welcome: Welcome = { clusterKey: identity.clusterKey.toString('base64'), fingerprint: clusterFingerprint(identity.clusterKey), memberName: identity.deviceName };
      this.close(); // one code, one machine
      socket.end(`${JSON.stringify(welcome)}\n`);
    });
  }
}

/**
 * Join the cluster of the member that shows `code`: try each candidate peer's link until one
 * accepts the code. Resolves to the cluster key and the member's name.
 */
export async function requestClusterKey(
  code: string,
  candidates: { host: string; port: number }[],
  self: { deviceId: string; deviceName: string },
): Promise<{ clusterKey: Buffer; memberName: string; member: { host: string; port: number } }> {
  const normalized = normalizePairingCode(code);
  if (!normalized) throw new HearthError('bad-pairing-code', `"${code}" is not a pairing code: it has 12 letters and digits, like 7K2M-Q9XD-4TRA.`);
  if (candidates.length === 0) throw new HearthError('no-peers', 'No Hearth machine was found to pair with: check that the other machine runs Hearth, or give its address with --peer host:port.');
  const psk = await pairingPsk(normalized);
  const failures: string[] = [];
  for (const member of candidates) {
    try {
      const socket = await openLinkStream({ host: member.host, port: member.port, identity: PAIRING_IDENTITY, psk, service: PAIRING_SERVICE, timeoutMs: 5_000 });
      socket.write(`${JSON.stringify(self)}\n`);
      const line = await firstLine(socket);
      const welcome = JSON.parse(line) as Welcome;
      const clusterKey = Buffer.from(welcome.clusterKey, 'base64');
      if (clusterKey.length !== 32 || clusterFingerprint(clusterKey) !== welcome.fingerprint) throw new Error('the member sent a damaged cluster key');
      return { clusterKey, memberName: welcome.memberName, member };
    } catch (error) {
      failures.push(`${member.host}:${member.port}: ${(error as Error).message}`);
    }
  }
  throw new HearthError('pairing-failed', `No machine accepted the code ${code}. Check the code and that it is still shown (codes last ${PAIRING_WINDOW_MS / 60_000} minutes and work once). Tried:\n${failures.join('\n')}`);
}

function firstLine(socket: TLSSocket): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: socket });
    const timer = setTimeout(() => reject(new Error('no answer within 10 s')), 10_000);
    lines.once('line', (line) => {
      clearTimeout(timer);
      resolve(line);
    });
    socket.once('error', reject);
    socket.once('close', () => reject(new Error('the member closed the connection')));
  });
}
