import { hkdfSync, scrypt } from 'node:crypto';
import { promisify } from 'node:util';
import { HearthError } from '../../base/errors.js';

const scryptAsync = promisify(scrypt) as (password: string, salt: string, keylen: number, options: { N: number; r: number; p: number; maxmem: number }) => Promise<Buffer>;

/** The PSK identity a member presents: the key behind it is derived from the cluster key. */
export function memberIdentity(deviceId: string): string {
  return `member:${deviceId}`;
}

/** The secure link's pre-shared key, derived from the 32-byte cluster key (the key itself never keys TLS). */
export function linkPsk(clusterKey: Buffer): Buffer {
  if (clusterKey.length !== 32) throw new HearthError('invalid-cluster-key', `A cluster key has 32 bytes, this one has ${clusterKey.length}: pair this machine again with \`hearth pair\`.`);
  return Buffer.from(hkdfSync('sha256', clusterKey, Buffer.alloc(0), 'hearth secure link v1', 32));
}

/**
 * The pre-shared key of a pairing handshake, from the code a member shows (any case, dashes and
 * spaces ignored). scrypt makes each guess of a short code cost tens of milliseconds and 32 MiB.
 */
export async function pairingPsk(code: string): Promise<Buffer> {
  const normalized = code.toUpperCase().replace(/[\s-]/g, '');
  if (normalized.length === 0) throw new HearthError('bad-pairing-code', 'The pairing code is empty: type the code the other machine shows (`hearth pair --show`).');
  // 128 * N * r is exactly 32 MiB, Node's default ceiling: leave room above it.
  return scryptAsync(normalized, 'hearth pairing v1', 32, { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });
}
