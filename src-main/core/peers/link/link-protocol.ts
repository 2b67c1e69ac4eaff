// The secure link's wire protocol: TLS 1.2 with a pre-shared key (ECDHE for forward secrecy,
// ChaCha20-Poly1305), then one header line naming the service. Both ends read it from here.
import type { Duplex } from 'node:stream';

/** TLS settings both ends use: one cipher, one version, so nothing is negotiated down. */
export const LINK_TLS = {
  ciphers: 'ECDHE-PSK-CHACHA20-POLY1305',
  minVersion: 'TLSv1.2',
  maxVersion: 'TLSv1.2',
} as const;

/** The protocol token that starts the header line. */
export const LINK_HEADER = 'HEARTH-LINK/1';
/** Longest header or answer line, newline included. */
export const MAX_LINE_BYTES = 128;

/** Whether `name` can name a service: lowercase letters, digits and dashes, starting with a letter. */
export function isServiceName(name: string): boolean {
  return /^[a-z][a-z0-9-]{0,31}$/.test(name);
}

/** The line a client sends after the handshake. */
export function headerLine(service: string): string {
  return `${LINK_HEADER} ${service}\n`;
}

/** The service a header line asks for, or null when the line is not a valid header. */
export function parseHeader(line: string): string | null {
  const prefix = `${LINK_HEADER} `;
  if (!line.startsWith(prefix)) return null;
  const service = line.slice(prefix.length);
  return isServiceName(service) ? service : null;
}

/** Why a line could not be read. */
export class LineError extends Error {
  constructor(readonly reason: 'too-long' | 'closed' | 'failed', options?: { cause?: unknown }) {
    super(reason === 'too-long' ? `line longer than ${MAX_LINE_BYTES} bytes` : reason === 'closed' ? 'closed before a full line' : 'socket error', options);
  }
}

/**
 * Read one `\n`-terminated line (without the newline) of at most `maxBytes`, in paused mode,
 * and put back whatever followed it: those bytes belong to the stream behind the header.
 */
export function readLine(socket: Duplex, maxBytes = MAX_LINE_BYTES): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const finish = (outcome: () => void): void => {
      socket.off('readable', onReadable);
      socket.off('end', onClosed);
      socket.off('close', onClosed);
      socket.off('error', onError);
      outcome();
    };
    const onReadable = (): void => {
      for (let chunk = socket.read() as Buffer | null; chunk !== null; chunk = socket.read() as Buffer | null) {
        buffered = Buffer.concat([buffered, chunk]);
        const newline = buffered.indexOf(0x0a);
        if (newline !== -1 && newline < maxBytes) {
          const rest = buffered.subarray(newline + 1);
          return finish(() => {
            if (rest.length > 0) socket.unshift(rest);
            resolve(buffered.subarray(0, newline).toString('utf8'));
          });
        }
        if (buffered.length >= maxBytes) return finish(() => reject(new LineError('too-long')));
      }
    };
    const onClosed = (): void => finish(() => reject(new LineError('closed')));
    const onError = (error: Error): void => finish(() => reject(new LineError('failed', { cause: error })));
    socket.on('readable', onReadable);
    socket.once('end', onClosed);
    socket.once('close', onClosed);
    socket.once('error', onError);
  });
}

/** What a failed TLS handshake means, from the error Node reports on either end. */
export type HandshakeFailureKind = 'wrong-key' | 'unknown-identity' | 'not-tls' | 'timeout' | 'closed' | 'other';

/** Classify a handshake error by its OpenSSL/Node code (alerts arrive as `ERR_SSL_..._ALERT_...`). */
export function classifyHandshakeError(error: unknown): HandshakeFailureKind {
  const code = String((error as { code?: unknown } | null)?.code ?? '');
  const message = String((error as { message?: unknown } | null)?.message ?? '');
  // A PSK mismatch surfaces as a record that does not decrypt (or a decrypt_error alert).
  if (/BAD_RECORD_MAC|DECRYPT/.test(code)) return 'wrong-key';
  if (/PSK_IDENTITY/.test(code)) return 'unknown-identity';
  if (code === 'ERR_TLS_HANDSHAKE_TIMEOUT') return 'timeout';
  if (/HTTP_REQUEST|HTTPS_PROXY_REQUEST|WRONG_VERSION_NUMBER|UNKNOWN_PROTOCOL|PACKET_LENGTH_TOO_LONG|RECORD_LAYER_FAILURE|UNSUPPORTED_PROTOCOL|NO_SHARED_CIPHER|VERSION_TOO_LOW|RECORD_TOO_LARGE/.test(code)) return 'not-tls';
  if (code === 'ECONNRESET' || code === 'EPIPE' || /disconnected before secure|socket hang up/i.test(message)) return 'closed';
  return 'other';
}
