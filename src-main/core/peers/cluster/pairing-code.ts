import { randomInt } from 'node:crypto';

// Crockford's base32 without I, L, O and U: nothing a person can misread or mistype.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const GROUPS = 3;
const GROUP_LENGTH = 4;

/** A fresh pairing code, e.g. "7K2M-Q9XD-4TRA": 60 random bits, shown by a member, typed on the joiner. */
export function newPairingCode(): string {
  const chars = Array.from({ length: GROUPS * GROUP_LENGTH }, () => ALPHABET[randomInt(ALPHABET.length)]!);
  return Array.from({ length: GROUPS }, (_, group) => chars.slice(group * GROUP_LENGTH, (group + 1) * GROUP_LENGTH).join('')).join('-');
}

/** The code as typed (any case, spaces or dashes, O for 0, I/L for 1), or undefined if it cannot be one. */
export function normalizePairingCode(typed: string): string | undefined {
  const cleaned = typed.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  if (cleaned.length !== GROUPS * GROUP_LENGTH || [...cleaned].some((char) => !ALPHABET.includes(char))) return undefined;
  return cleaned;
}
