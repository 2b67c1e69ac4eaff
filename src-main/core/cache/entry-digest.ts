// The digest an entry's bytes must match when they come from another machine. An entry's name is
// the FNV-1a 64 of its bytes because that is how llama.cpp's RPC cache looks entries up, but FNV-1a
// is no defence against a peer that lies: bytes that hash to another tensor's name are easy to make.
// So what crosses machines is also checked against the SHA-256 the coordinator's hash manifest holds
// for that tensor, written `sha256:<64 lowercase hex>` as containerd names its digests.
import { createHash, type Hash } from 'node:crypto';

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** Whether `text` is an entry digest: `sha256:` and 64 lowercase hex digits. */
export function isEntryDigest(text: string): boolean {
  return DIGEST.test(text);
}

/** A running SHA-256 (Node's, which uses the CPU's SHA instructions where it has them). */
export function startDigest(): Hash {
  return createHash('sha256');
}

/** The digest of what `hash` has seen, as `sha256:<hex>`; `hash` is finished by it. */
export function finishDigest(hash: Hash): string {
  return `sha256:${hash.digest('hex')}`;
}

/** The digest of `bytes` in one go. */
export function digestOf(bytes: Uint8Array): string {
  return finishDigest(startDigest().update(bytes));
}
