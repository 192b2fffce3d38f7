import { randomBytes } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** IAM unique ids: a 4-letter type prefix (AROA role, ANPA policy) and 17 characters. */
export function iamId(prefix: 'AROA' | 'ANPA'): string {
  return prefix + [...randomBytes(17)].map((b) => ALPHABET[b % 32]).join('');
}
