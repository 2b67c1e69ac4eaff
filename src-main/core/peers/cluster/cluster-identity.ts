import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { HearthError } from '../../base/errors.js';

/** This machine in its cluster: who it is, and the key every member holds. */
export interface ClusterIdentity {
  /** Stable id of this machine (made at first start). */
  deviceId: string;
  deviceName: string;
  /** 32 random bytes; knowing them is what makes a machine a member. Never leaves the data folder except to pair. */
  clusterKey: Buffer;
}

interface StoredIdentity {
  version: 1;
  deviceId: string;
  deviceName: string;
  clusterKey: string;
}

const FILE = 'cluster.json';

/** The cluster's public name: the first 16 hex digits of SHA-256 of its key (safe to advertise). */
export function clusterFingerprint(clusterKey: Buffer): string {
  return createHash('sha256').update('hearth cluster fingerprint v1').update(clusterKey).digest('hex').slice(0, 16);
}

/** Read this machine's identity, creating it (and a cluster of one) on first start. */
export async function loadIdentity(dataDir: string): Promise<ClusterIdentity> {
  const file = path.join(dataDir, FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    const fresh: ClusterIdentity = { deviceId: randomUUID(), deviceName: os.hostname(), clusterKey: randomBytes(32) };
    await saveIdentity(dataDir, fresh);
    return fresh;
  }
  const stored = JSON.parse(text) as Partial<StoredIdentity>;
  const clusterKey = Buffer.from(stored.clusterKey ?? '', 'base64');
  if (stored.version !== 1 || typeof stored.deviceId !== 'string' || typeof stored.deviceName !== 'string' || clusterKey.length !== 32) {
    throw new HearthError('bad-identity', `${file} is damaged: move it away to start a new cluster on this machine (it will need to pair again).`);
  }
  return { deviceId: stored.deviceId, deviceName: stored.deviceName, clusterKey };
}

/** Write the identity atomically, readable by this user only (it holds the cluster key). */
export async function saveIdentity(dataDir: string, identity: ClusterIdentity): Promise<void> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(dataDir, FILE);
  const temp = `${file}.tmp-${process.pid}`;
  const stored: StoredIdentity = { version: 1, deviceId: identity.deviceId, deviceName: identity.deviceName, clusterKey: identity.clusterKey.toString('base64') };
  await writeFile(temp, `${JSON.stringify(stored, null, 2)}\n`, { mode: 0o600 });
  await chmod(temp, 0o600);
  await rename(temp, file);
}
