// Checking a secret a client sent (the UI's web token, the API key) without leaking it by timing.
import crypto from 'node:crypto';

/** The key of an `Authorization: Bearer <key>` header, or null. */
export function bearerToken(header: string | undefined): string | null {
  return /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1] ?? null;
}

/** Whether `given` is `secret`, compared in constant time. */
export function isSecret(given: string | null, secret: string): boolean {
  if (given === null) return false;
  // Digests first: timingSafeEqual needs equal lengths, and the secret's length must not leak either.
  const digest = (s: string): Buffer => crypto.createHash('sha256').update(s).digest();
  return crypto.timingSafeEqual(digest(given), digest(secret));
}
